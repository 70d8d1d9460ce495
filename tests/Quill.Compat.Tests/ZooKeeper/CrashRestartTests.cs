using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// kill -9 and start again on the same data directory: everything a client saw acknowledged is still there, and
/// the sequential suffix goes on from where it was. Run against Apache ZooKeeper too, which proves the test.
/// </summary>
public sealed class CrashRestartTests
{
    private const string WriteScript = """
        import sys
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15)
        zk.create("/durable", b"before-crash")
        for i in range(20): zk.create(f"/durable/n-", str(i).encode(), sequence=True)
        zk.set("/durable", b"updated")
        zk.create("/durable/gone", b""); zk.delete("/durable/gone")
        print("written")
        zk.stop(); zk.close()
        """;

    private const string ReadScript = """
        import sys
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15)
        data, stat = zk.get("/durable")
        children = sorted(zk.get_children("/durable"))
        print(data.decode(), stat.version, stat.cversion, len(children), children[0], children[-1])
        print(zk.get("/durable/" + children[7])[0].decode())
        print(zk.create("/durable/n-", b"", sequence=True))
        zk.stop(); zk.close()
        """;

    // ZooKeeper 3.8 counts deletes in the parent's cversion (22 = 21 creates + 1 delete) but not in the next
    // sequential suffix (21), before and after a restart alike.
    private static readonly string[] Expected =
        ["updated 1 22 20 n-0000000000 n-0000000019", "7", "/durable/n-0000000021"];

    [Fact]
    public async Task Keeper_keeps_acknowledged_writes_across_kill_9()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        await Write(keeper.ConnectString, keeper.Diagnostics);
        keeper.Kill();
        await keeper.StartAgainAsync();
        await ReadBack(keeper.ConnectString, keeper.Diagnostics);
    }

    [Fact]
    public async Task Apache_ZooKeeper_keeps_acknowledged_writes_across_kill_9()
    {
        await using var zookeeper = await ApacheZooKeeperServer.StartAsync();
        await Write(zookeeper.ConnectString, zookeeper.Diagnostics);
        zookeeper.Kill();
        await zookeeper.StartAgainAsync();
        await ReadBack(zookeeper.ConnectString, zookeeper.Diagnostics);
    }

    private static async Task Write(string server, Func<string> diagnostics)
    {
        var run = await ToolRunner.RunKazooAsync(WriteScript, server);
        Assert.True(run.Succeeded && run.StdOut.Trim() == "written", $"{run}\n{diagnostics()}");
    }

    private static async Task ReadBack(string server, Func<string> diagnostics)
    {
        var run = await ToolRunner.RunKazooAsync(ReadScript, server);
        var lines = run.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(run.Succeeded && lines.SequenceEqual(Expected),
            $"after restart expected:\n{string.Join('\n', Expected)}\n{run}\n{diagnostics()}");
    }
}
