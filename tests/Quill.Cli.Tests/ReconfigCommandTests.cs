using System.Security.Cryptography;
using System.Text;
using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>`quill zk`'s reconfig and config commands against a Keeper ensemble, config compared with zkCli.sh's.</summary>
public sealed class ReconfigCommandTests
{
    [Fact]
    public async Task reconfig_remove_as_super_commits_the_new_membership_and_config_prints_it_as_zkcli_does()
    {
        var extra = new Dictionary<string, string>
        {
            ["reconfigEnabled"] = "true",
            ["DigestAuthenticationProvider.superDigest"] = "super:" + Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes("super:pw"))),
        };
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: extra);
        var leader = await ensemble.LeaderAsync();
        var removed = ensemble.Members.First(m => m != leader);

        var refused = await QuillZk.RunInteractiveAsync(leader.ConnectString, $"reconfig -remove {removed.Id}");
        Assert.Contains("Insufficient permission : /zookeeper/config", refused.StdOut + refused.StdErr);

        // Before any reconfig the static membership has the first epoch's version (100000000 as a rule), as in ZooKeeper.
        var before = await QuillZk.RunAsync(leader.ConnectString, "config");
        string version = before.Output.Single(l => l.StartsWith("version=", StringComparison.Ordinal))["version=".Length..];
        Assert.EndsWith("00000000", version);
        var run = await QuillZk.RunInteractiveAsync(leader.ConnectString, "addauth digest super:pw", $"reconfig -s -v {version} -remove {removed.Id}");
        var output = run.StdOut + run.StdErr;
        Assert.Contains("Committed new configuration:", output);
        Assert.DoesNotContain($"server.{removed.Id}=", output);
        Assert.Contains("dataVersion = -1", output);

        var ours = await QuillZk.RunAsync(leader.ConnectString, "config");
        var theirs = await QuillZk.RunZkCliAsync(leader.ConnectString, "config");
        Assert.Equal(theirs.Output, ours.Output);
        Assert.Contains(ours.Output, l => l.StartsWith("version=", StringComparison.Ordinal) && l != "version=0" && l != $"version={version}");
        Assert.DoesNotContain(ours.Output, l => l.StartsWith($"server.{removed.Id}=", StringComparison.Ordinal));
    }
}
