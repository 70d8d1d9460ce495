using System.Text.RegularExpressions;
using Quill.Compat.Tests.ZooKeeper;
using Quill.Keeper.Ensemble.Tests.Harness;
using Quill.Testing;

namespace Quill.Keeper.Ensemble.Tests;

/// <summary>
/// The differential script (zk_script.py: every op, error, stat field and watch event as a line) through a follower of
/// a 3-server Apache ZooKeeper 3.8 ensemble and through a follower of a 3-server Keeper ensemble: the lines must match.
/// </summary>
public sealed class DifferentialEnsembleTests
{
    private static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "scripts", "zk_script.py");

    [Fact]
    public async Task the_differential_script_through_a_keeper_follower_answers_exactly_like_through_a_zookeeper_follower()
    {
        var expected = await RunThroughFollowerAsync(EnsembleKind.ApacheZooKeeper);
        var actual = await RunThroughFollowerAsync(EnsembleKind.Keeper);
        Assert.True(expected.Lines.SequenceEqual(actual.Lines),
            "a Keeper follower differs from an Apache ZooKeeper follower:\n" + LineDiff.Format(expected.Lines, actual.Lines, "Apache ZooKeeper", "Keeper") +
            $"\n--- against Keeper ---\n{actual.Run}");
        Assert.Equal("done | ok", expected.Lines.LastOrDefault());
    }

    private static async Task<(ToolResult Run, List<string> Lines)> RunThroughFollowerAsync(EnsembleKind kind)
    {
        await using var ensemble = await EnsembleProcess.StartAsync(kind);
        int leader = await ensemble.FindLeaderAsync() ?? throw new InvalidOperationException("no leader");
        int follower = Enumerable.Range(0, ensemble.Size).First(i => i != leader);
        var run = await ToolRunner.RunKazooScriptFileAsync(ScriptPath, ensemble.ConnectStringOf(follower), "/compat");
        // /zookeeper/config names each ensemble's own (free, so different) ports: compared with the ports left out.
        var lines = run.StdOut.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)
            .Select(l => l.StartsWith("get /zookeeper/config", StringComparison.Ordinal) ? Regex.Replace(l, @":\d+", ":<port>") : l)
            .ToList();
        return (run, lines);
    }
}
