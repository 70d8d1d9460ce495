using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Quill.Testing;

namespace Quill.Compat.Tests.Ensemble;

/// <summary>
/// Dynamic reconfiguration (ZooKeeper 3.5+'s reconfig) of a Keeper ensemble of separate processes, driven by kazoo:
/// a server started with the joining config syncs and is added; a follower and the leader are removed; the new
/// membership survives kill -9 of every member; the refusals (NOAUTH, BADVERSION, NEWCONFIGNOQUORUM,
/// RECONFIG_DISABLED) are ZooKeeper's.
/// </summary>
public sealed partial class ReconfigTests
{
    [System.Text.RegularExpressions.GeneratedRegex("version=([1-9a-f][0-9a-f]*00000000) dataVersion=-1$")]
    private static partial System.Text.RegularExpressions.Regex FirstEpochVersion();

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);
    private const string SuperAuth = "super:pw";
    private static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "scripts", "reconfig_client.py");

    private static Dictionary<string, string> ReconfigConfig(bool enabled = true, bool skipAcl = false)
    {
        var config = new Dictionary<string, string>
        {
            ["reconfigEnabled"] = enabled ? "true" : "false",
            ["DigestAuthenticationProvider.superDigest"] = "super:" + Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes(SuperAuth))),
        };
        if (skipAcl) config["skipACL"] = "yes";
        return config;
    }

    [Fact]
    public async Task a_server_started_with_the_joining_config_is_added_serves_and_the_membership_survives_kill_9_of_every_member()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: ReconfigConfig());
        await using var writer = await EnsembleClient.StartAsync("writer", ensemble.ConnectString, "w");
        writer.WaitForLine(l => l == "ack 50", Long);
        var joiner = StartJoiner(ensemble, 4);
        try
        {
            await WaitForModeAsync(joiner, m => m == "follower", ensemble);
            string spec = $"server.4=127.0.0.1:{joiner.QuorumPort}:{joiner.ElectionPort};127.0.0.1:{joiner.ClientPort}";

            var result = await RunAsync("reconfig", ensemble.ConnectString, "--auth", SuperAuth, "--join", spec, "--watch");
            Assert.StartsWith("ok ", result[0]);
            Assert.Contains($"server.4=127.0.0.1:{joiner.QuorumPort}:{joiner.ElectionPort}:participant;127.0.0.1:{joiner.ClientPort}", result[0]);
            Assert.Equal("event CHANGED", result[1]);
            string version = result[0][(result[0].LastIndexOf("version=", StringComparison.Ordinal) + "version=".Length)..];
            Assert.NotEqual("0", version);

            // Every member, the new one included, serves the same /zookeeper/config (data version -1, as ZooKeeper's).
            foreach (var m in ensemble.Members.Append(joiner))
                Assert.Equal($"config {result[0][3..]} dataVersion=-1", (await RunAsync("config", m.ConnectString))[0]);
            int acked = LastAck(writer);
            writer.WaitForLine(l => l == $"ack {acked + 50}", Long);

            // Persisted as ZooKeeper does: zoo.cfg points at zoo.cfg.dynamic.<version>, which lists server.4.
            foreach (var m in ensemble.Members.Append(joiner))
            {
                var dynamicFile = $"{m.ConfigPath}.dynamic.{version}";
                Assert.Contains($"dynamicConfigFile={dynamicFile}", File.ReadAllLines(m.ConfigPath));
                Assert.Contains(File.ReadAllLines(dynamicFile), l => l.StartsWith("server.4=", StringComparison.Ordinal));
            }

            // kill -9 of all four; back up, they are four voters: 1 and 2 alone are no quorum (of three they would be).
            foreach (var m in ensemble.Members.Append(joiner)) m.Kill();
            foreach (var m in ensemble.Members.Append(joiner)) m.Start();
            await WaitForOneLeaderAsync([.. ensemble.Members, joiner], ensemble);
            ensemble[3].Kill();
            joiner.Kill();
            foreach (var m in new[] { ensemble[1], ensemble[2] })
                await WaitForModeAsync(m, mode => mode is "not serving" or "down", ensemble);
        }
        finally
        {
            joiner.Kill();
            await writer.FinishAsync(Long);
        }
    }

    [Fact]
    public async Task a_follower_removed_by_reconfig_loses_its_vote_and_the_rest_go_on_taking_writes()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: ReconfigConfig());
        var leader = await ensemble.LeaderAsync();
        var removed = ensemble.Members.First(m => m != leader);
        var staying = ensemble.Members.First(m => m != leader && m != removed);
        await using var writer = await EnsembleClient.StartAsync("writer", $"{leader.ConnectString},{staying.ConnectString}", "w");
        writer.WaitForLine(l => l == "ack 50", Long);

        var result = await RunAsync("reconfig", leader.ConnectString, "--auth", SuperAuth, "--leave", removed.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.StartsWith("ok ", result[0]);
        Assert.DoesNotContain($"server.{removed.Id}=", result[0]);
        int acked = LastAck(writer);
        writer.WaitForLine(l => l == $"ack {acked + 50}", Long);

        // As in ZooKeeper, the removed server may stay connected as a follower without a vote: with the other
        // follower gone, the leader has no quorum of the two voters left, though the removed one still answers.
        staying.Kill();
        await WaitForModeAsync(leader, m => m is "not serving", ensemble);
        staying.Start();
        await WaitForOneLeaderAsync([leader, staying], ensemble);
        acked = LastAck(writer);
        writer.WaitForLine(l => l == $"ack {acked + 50}", Long);
        Assert.DoesNotContain($"server.{removed.Id}=", (await RunAsync("config", leader.ConnectString))[0]);
        await writer.FinishAsync(Long);
    }

    [Fact]
    public async Task removing_the_leader_elects_a_new_one_among_the_rest_and_loses_no_acknowledged_write()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: ReconfigConfig());
        var leader = await ensemble.LeaderAsync();
        var rest = ensemble.Members.Where(m => m != leader).ToList();
        await using var writer = await EnsembleClient.StartAsync("writer", ensemble.ConnectString, "w");
        writer.WaitForLine(l => l == "ack 50", Long);

        var result = await RunAsync("reconfig", rest[0].ConnectString, "--auth", SuperAuth, "--leave", leader.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.StartsWith("ok ", result[0]);
        await WaitForOneLeaderAsync(rest, ensemble);
        // The old leader steps down and, like a ZooKeeper server removed by reconfig, follows without a vote.
        await WaitForModeAsync(leader, m => m == "follower", ensemble);
        int after = LastAck(writer);
        writer.WaitForLine(l => l == $"ack {after + 50}", Long);

        var transcript = await writer.FinishAsync(Long);
        var acked = transcript.Split('\n').Where(l => l.StartsWith("ack ", StringComparison.Ordinal)).Select(l => $"w-{l[4..].Trim()}").ToHashSet();
        foreach (var m in rest)
        {
            var missing = acked.Except(await ChildrenAsync(m, "/ens")).ToList();
            Assert.True(missing.Count == 0, $"server.{m.Id} lacks {missing.Count} acknowledged creates, e.g. {string.Join(", ", missing.Take(5))}\n{ensemble.Diagnostics()}");
        }
    }

    [Fact]
    public async Task reconfig_is_refused_without_super_with_a_stale_version_and_without_a_synced_quorum_and_the_config_node_is_read_only()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: ReconfigConfig());
        var hosts = ensemble.ConnectString;
        Assert.Equal("error NoAuthError -102", (await RunAsync("reconfig", hosts, "--leave", "3"))[0]);
        Assert.Equal("error BadVersionError -103", (await RunAsync("reconfig", hosts, "--auth", SuperAuth, "--leave", "3", "--from", "0x999"))[0]);
        // server.1 with two servers that are not running: no synced quorum of the new membership.
        var m1 = ensemble[1];
        string members = $"server.1=127.0.0.1:{m1.QuorumPort}:{m1.ElectionPort};127.0.0.1:{m1.ClientPort}," +
            "server.8=127.0.0.1:1:2;127.0.0.1:3,server.9=127.0.0.1:4:5;127.0.0.1:6";
        Assert.Equal("error NewConfigNoQuorumError -13", (await RunAsync("reconfig", hosts, "--auth", SuperAuth, "--members", members))[0]);
        Assert.Equal("error NoAuthError -102", (await RunAsync("setconfig", hosts))[0]);
        // Nothing changed: still the static membership, at the version ZooKeeper gives it (the first epoch's zxid).
        var config = (await RunAsync("config", hosts))[0];
        Assert.Matches("version=[1-9a-f][0-9a-f]*00000000 dataVersion=-1$", config);
        Assert.Contains("server.3=", config);
        // ACLs are checked (no skipACL): a node only world:anyone:CREATE is not readable.
        Assert.Equal("ok", (await RunAsync("restrict", hosts, "/hidden"))[0]);
        Assert.Equal("error NoAuthError -102", (await RunAsync("read", hosts, "/hidden"))[0]);
    }

    [Fact]
    public async Task the_static_membership_gets_the_first_epochs_version_and_files_as_in_zookeeper_and_skip_acl_lets_anyone_reconfigure()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: ReconfigConfig(skipAcl: true));
        // As Apache ZooKeeper 3.8 (3 servers, reconfigEnabled=true, zkCli.sh config before any reconfig): every member
        // shows the server lines with version=100000000; zoo.cfg now points at zoo.cfg.dynamic.100000000, which holds
        // the server lines, and zoo.cfg.bak is the zoo.cfg as written.
        // The first epoch is 1 unless an election round failed on a busy machine: the version is <epoch>00000000.
        var first = await WaitForConfigAsync(ensemble[1], c => FirstEpochVersion().IsMatch(c), ensemble);
        string version = FirstEpochVersion().Match(first).Groups[1].Value;
        foreach (var m in ensemble.Members)
        {
            Assert.Equal(first, await WaitForConfigAsync(m, c => c == first, ensemble));
            var dynamicFile = $"{m.ConfigPath}.dynamic.{version}";
            await WaitForAsync(() => File.Exists(dynamicFile) && File.ReadAllLines(m.ConfigPath).Contains($"dynamicConfigFile={dynamicFile}"), $"server.{m.Id}'s zoo.cfg points at {dynamicFile}", ensemble);
            Assert.Equal(3, File.ReadAllLines(dynamicFile).Count(l => l.StartsWith("server.", StringComparison.Ordinal)));
            Assert.DoesNotContain(File.ReadAllLines(m.ConfigPath), l => l.StartsWith("server.", StringComparison.Ordinal));
            Assert.Equal(3, File.ReadAllLines(m.ConfigPath + ".bak").Count(l => l.StartsWith("server.", StringComparison.Ordinal)));
        }

        // skipACL: a node whose ACL allows only CREATE is readable, and a reconfig without super passes (from the
        // version above, which -v / from_config may name).
        var hosts = ensemble.ConnectString;
        Assert.Equal("ok", (await RunAsync("restrict", hosts, "/hidden"))[0]);
        Assert.Equal("read hidden", (await RunAsync("read", hosts, "/hidden"))[0]);
        var leader = await ensemble.LeaderAsync();
        var removed = ensemble.Members.First(m => m != leader);
        var result = await RunAsync("reconfig", leader.ConnectString, "--leave", removed.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--from", "0x" + version);
        Assert.StartsWith("ok ", result[0]);
        Assert.DoesNotContain($"server.{removed.Id}=", result[0]);
        Assert.DoesNotContain($"version={version}", result[0]);
    }

    [Fact]
    public async Task reconfig_answers_reconfig_disabled_when_reconfig_enabled_is_false()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: ReconfigConfig(enabled: false));
        // kazoo does not know error -123 (it fails the same way against Apache ZooKeeper); the Java client does.
        var result = await ToolRunner.RunZkCliAsync(ensemble[1].ConnectString, "reconfig", "-remove", "3");
        Assert.Contains("Reconfig is disabled", string.Join("\n", result.Output.Concat(result.Messages)) + result.Raw);
        Assert.Contains("server.3=", (await RunAsync("config", ensemble.ConnectString))[0]);
    }

    [Fact]
    public async Task an_observer_is_added_serves_reads_without_a_vote_a_participant_becomes_an_observer_and_back_and_the_observer_is_removed()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: ReconfigConfig());
        var leader = await ensemble.LeaderAsync();
        var f = ensemble.Members.First(m => m != leader);
        var g = ensemble.Members.First(m => m != leader && m != f);
        await using var writer = await EnsembleClient.StartAsync("writer", ensemble.ConnectString, "w");
        writer.WaitForLine(l => l == "ack 30", Long);

        // server.5 joins as an observer (its own line says so, as in ZooKeeper) and is added as one.
        var observer = StartJoiner(ensemble, 5, observer: true);
        try
        {
            await WaitForModeAsync(observer, m => m is "follower" or "observer", ensemble);
            var added = await RunAsync("reconfig", leader.ConnectString, "--auth", SuperAuth, "--join", Spec(observer, "observer"));
            Assert.StartsWith("ok ", added[0]);
            Assert.Contains($"server.5=127.0.0.1:{observer.QuorumPort}:{observer.ElectionPort}:observer;127.0.0.1:{observer.ClientPort}", added[0]);
            await WaitForModeAsync(observer, m => m == "observer", ensemble);
            Assert.Equal($"config {added[0][3..]} dataVersion=-1", (await RunAsync("config", observer.ConnectString))[0]);
            // It serves reads: what was acknowledged before it was added is there.
            int acked = LastAck(writer);
            Assert.Contains($"w-{acked}", await ChildrenAsync(observer, "/ens"));

            // f becomes an observer: two voters are left (the leader and g), and the two observers' acks do not count,
            // so without g the leader has no quorum although both observers are connected.
            var demoted = await RunAsync("reconfig", leader.ConnectString, "--auth", SuperAuth, "--join", Spec(f, "observer"));
            Assert.StartsWith("ok ", demoted[0]);
            Assert.Contains($"server.{f.Id}=127.0.0.1:{f.QuorumPort}:{f.ElectionPort}:observer;", demoted[0]);
            await WaitForModeAsync(f, m => m == "observer", ensemble);
            acked = LastAck(writer);
            writer.WaitForLine(l => l == $"ack {acked + 20}", Long);
            g.Kill();
            await WaitForModeAsync(leader, m => m == "not serving", ensemble);
            g.Start();
            await WaitForRolesAsync([leader, g, f, observer], ["leader", "follower", "observer", "observer"], ensemble);
            var newLeader = (await leader.ModeAsync()) == "leader" ? leader : g;
            acked = LastAck(writer);
            writer.WaitForLine(l => l == $"ack {acked + 20}", Long);

            // f is a participant again: three voters, so the ensemble survives losing one of the other two.
            var promoted = await RunAsync("reconfig", newLeader.ConnectString, "--auth", SuperAuth, "--join", Spec(f, "participant"));
            Assert.StartsWith("ok ", promoted[0]);
            await WaitForModeAsync(f, m => m == "follower", ensemble);

            // The observer is removed; writes go on.
            var removed = await RunAsync("reconfig", newLeader.ConnectString, "--auth", SuperAuth, "--leave", "5");
            Assert.StartsWith("ok ", removed[0]);
            Assert.DoesNotContain("server.5=", removed[0]);
            foreach (var m in ensemble.Members)
                await WaitForConfigAsync(m, c => c == $"config {removed[0][3..]} dataVersion=-1", ensemble);
            acked = LastAck(writer);
            writer.WaitForLine(l => l == $"ack {acked + 20}", Long);
            var other = newLeader == leader ? g : leader;
            other.Kill();
            acked = LastAck(writer);
            writer.WaitForLine(l => l == $"ack {acked + 20}", Long);
        }
        finally
        {
            observer.Kill();
            await writer.FinishAsync(Long);
        }
    }

    private static string Spec(KeeperEnsemble.Member m, string role) =>
        $"server.{m.Id}=127.0.0.1:{m.QuorumPort}:{m.ElectionPort}:{role};127.0.0.1:{m.ClientPort}";

    /// <summary>Waits until each member is in the mode at the same place, except that the leader may be any of those
    /// expected to lead or follow (an election picks it).</summary>
    private static async Task WaitForRolesAsync(IReadOnlyList<KeeperEnsemble.Member> members, IReadOnlyList<string> modes, KeeperEnsemble ensemble)
    {
        var deadline = DateTime.UtcNow + Long;
        while (true)
        {
            var now = new List<string>();
            foreach (var m in members) now.Add(await m.ModeAsync());
            bool ok = now.Count(x => x == "leader") == 1 && now.Zip(modes).All(p => p.Second == "observer" ? p.First == "observer" : p.First is "leader" or "follower");
            if (ok) return;
            Assert.True(DateTime.UtcNow < deadline, $"servers {string.Join(",", members.Select(m => m.Id))} are {string.Join(",", now)}, not {string.Join(",", modes)}\n{ensemble.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    /// <summary>A server whose zoo.cfg lists the ensemble and itself (ZooKeeper's way to join), started.</summary>
    private static KeeperEnsemble.Member StartJoiner(KeeperEnsemble ensemble, int id, bool observer = false)
    {
        var ports = FreePorts(3);
        var joiner = new KeeperEnsemble.Member(id, Path.Combine(ensemble.Directory, $"s{id}"), ports[0], ports[1], ports[2]);
        Directory.CreateDirectory(joiner.DataDir);
        File.WriteAllText(Path.Combine(joiner.DataDir, "myid"), id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The current servers: zoo.cfg's lines, or (once the membership is versioned) its dynamic file's.
        var lines = File.ReadAllLines(ensemble[1].ConfigPath)
            .SelectMany(l => l.StartsWith("dynamicConfigFile=", StringComparison.Ordinal) ? File.ReadAllLines(l["dynamicConfigFile=".Length..]) : [l])
            .Select(l => l.StartsWith("dataDir=", StringComparison.Ordinal) ? $"dataDir={joiner.DataDir}" : l)
            .Append($"server.{id}=127.0.0.1:{joiner.QuorumPort}:{joiner.ElectionPort}{(observer ? ":observer" : "")};127.0.0.1:{joiner.ClientPort}");
        File.WriteAllLines(joiner.ConfigPath, lines);
        joiner.Start();
        return joiner;
    }

    private static async Task<string> WaitForConfigAsync(KeeperEnsemble.Member member, Func<string, bool> wanted, KeeperEnsemble ensemble)
    {
        var deadline = DateTime.UtcNow + Long;
        string config;
        while (!wanted(config = (await RunAsync("config", member.ConnectString))[0]))
        {
            Assert.True(DateTime.UtcNow < deadline, $"server.{member.Id} serves {config}\n{ensemble.Diagnostics()}");
            await Task.Delay(200);
        }
        return config;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what, KeeperEnsemble ensemble)
    {
        var deadline = DateTime.UtcNow + Long;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not true within {Long}: {what}\n{ensemble.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        foreach (var l in listeners) l.Start();
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var l in listeners) l.Stop();
        return ports;
    }

    private static async Task WaitForModeAsync(KeeperEnsemble.Member member, Func<string, bool> wanted, KeeperEnsemble ensemble)
    {
        var deadline = DateTime.UtcNow + Long;
        string mode;
        while (!wanted(mode = await member.ModeAsync()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"server.{member.Id} is {mode}\n{ensemble.Diagnostics()}\n{member.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until exactly one of <paramref name="members"/> leads and the others follow.</summary>
    private static async Task WaitForOneLeaderAsync(IReadOnlyList<KeeperEnsemble.Member> members, KeeperEnsemble ensemble)
    {
        var deadline = DateTime.UtcNow + Long;
        while (true)
        {
            var modes = new List<string>();
            foreach (var m in members) modes.Add(await m.ModeAsync());
            if (modes.Count(x => x == "leader") == 1 && modes.Count(x => x == "follower") == members.Count - 1) return;
            Assert.True(DateTime.UtcNow < deadline, $"no single leader among {string.Join(",", members.Select(m => m.Id))}: {string.Join(",", modes)}\n{ensemble.Diagnostics()}");
            await Task.Delay(100);
        }
    }

    private static int LastAck(EnsembleClient writer) =>
        int.Parse(writer.WaitForLine(l => l.StartsWith("ack ", StringComparison.Ordinal), Long)[4..], System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<List<string>> RunAsync(params string[] args)
    {
        var run = await ToolRunner.RunKazooScriptFileAsync(ScriptPath, args);
        Assert.True(run.Succeeded, run.ToString());
        return run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }

    private static async Task<List<string>> ChildrenAsync(KeeperEnsemble.Member m, string path)
    {
        var run = await ToolRunner.RunKazooScriptFileAsync(EnsembleClient.ScriptPath, "children", m.ConnectString, path);
        var lines = run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.True(run.Succeeded && lines.LastOrDefault() == "done", $"listing {path} on server.{m.Id} failed:\n{run}");
        return lines.Take(lines.Count - 1).ToList();
    }
}
