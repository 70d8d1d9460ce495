using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// The same kazoo script against Apache ZooKeeper 3.8 and against Keeper, both fresh and configured alike: every
/// line (result, error class, stat fields, watch events in order) must be equal.
/// </summary>
public sealed class DifferentialTests
{
    [Fact]
    public async Task Keeper_answers_the_script_exactly_like_Apache_ZooKeeper()
    {
        await using var zookeeper = await ApacheZooKeeperServer.StartAsync();
        await using var keeper = await KeeperProcess.StartAsync();

        var expected = await ZkScript.RunToEndAsync(zookeeper.ConnectString);
        var (keeperRun, actual) = await ZkScript.RunAsync(keeper.ConnectString);

        Assert.True(expected.SequenceEqual(actual),
            "Keeper differs from Apache ZooKeeper:\n" +
            LineDiff.Format(expected, actual, "Apache ZooKeeper", "Keeper") +
            $"\n--- zk_script.py against Keeper ---\nexit code {keeperRun.ExitCode}\n{keeperRun.StdErr}\n" +
            keeper.Diagnostics());
        Assert.True(keeperRun.Succeeded, $"zk_script.py failed against Keeper:\n{keeperRun}\n{keeper.Diagnostics()}");
    }
}
