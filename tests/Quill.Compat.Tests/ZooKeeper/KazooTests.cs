using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// kazoo (Python) doing what applications do: CRUD, watches, and ephemerals that vanish when their session closes.
/// The same tests run against Apache ZooKeeper, which proves them, and against Keeper.
/// </summary>
public abstract class KazooTests
{
    private readonly string _root = "/kazoo-" + Guid.NewGuid().ToString("N")[..8];

    protected abstract string Server { get; }

    /// <summary>The server's own output, added to failure messages.</summary>
    protected abstract string ServerDiagnostics();

    [Fact]
    public async Task Crud_round_trip()
    {
        var lines = await RunAsync("""
            import sys
            from kazoo.client import KazooClient
            from kazoo.exceptions import NoNodeError, BadVersionError, NodeExistsError
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15); root = sys.argv[2]
            print("create", zk.create(root, b"v0"))
            data, stat = zk.get(root); print("get", data.decode(), stat.version, stat.dataLength)
            print("set", zk.set(root, b"value-1", version=0).version)
            try: zk.set(root, b"x", version=0)
            except BadVersionError: print("stale set BadVersionError")
            try: zk.create(root, b"")
            except NodeExistsError: print("duplicate NodeExistsError")
            for name in ("b", "a", "c"): zk.create(f"{root}/{name}", name.encode())
            print("children", sorted(zk.get_children(root)), zk.exists(root).numChildren)
            print("seq", zk.create(f"{root}/s-", b"", sequence=True)[len(root):])
            zk.delete(root, recursive=True)
            print("exists after delete", zk.exists(root))
            try: zk.get(root)
            except NoNodeError: print("get after delete NoNodeError")
            zk.stop(); zk.close()
            """);

        Assert.Equal(
        [
            $"create {_root}", "get v0 0 2", "set 1", "stale set BadVersionError", "duplicate NodeExistsError",
            "children ['a', 'b', 'c'] 3", "seq /s-0000000003", "exists after delete None", "get after delete NoNodeError",
        ], lines);
    }

    [Fact]
    public async Task Watches_fire_once_with_the_right_type_and_path()
    {
        var lines = await RunAsync("""
            import sys, threading
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15); root = sys.argv[2]
            events = []; cond = threading.Condition()
            def watch(event):
                with cond: events.append(f"{event.type} {event.path[len(root):] or '/'}"); cond.notify_all()
            def wait_for(n):
                with cond: cond.wait_for(lambda: len(events) >= n, timeout=10)
            zk.create(root, b"")
            zk.get(root, watch=watch)
            zk.set(root, b"1"); zk.set(root, b"2")
            wait_for(1)
            zk.get_children(root, watch=watch)
            zk.create(f"{root}/kid", b"")
            wait_for(2)
            zk.exists(f"{root}/later", watch=watch)
            zk.create(f"{root}/later", b"")
            wait_for(3)
            zk.get(f"{root}/kid", watch=watch)
            zk.delete(f"{root}/kid")
            wait_for(4)
            zk.sync(root)
            print("\n".join(events))
            zk.delete(root, recursive=True); zk.stop(); zk.close()
            """);

        Assert.Equal(["CHANGED /", "CHILD /", "CREATED /later", "DELETED /kid"], lines);
    }

    [Fact]
    public async Task Ephemeral_node_disappears_when_its_session_closes()
    {
        var lines = await RunAsync("""
            import sys, threading
            from kazoo.client import KazooClient
            hosts, root = sys.argv[1], sys.argv[2]
            zk = KazooClient(hosts=hosts); zk.start(timeout=15)
            owner = KazooClient(hosts=hosts); owner.start(timeout=15)
            zk.create(root, b"")
            owner.create(f"{root}/eph", b"mine", ephemeral=True)
            stat = zk.exists(f"{root}/eph")
            print("owned by the other session", stat.ephemeralOwner == owner.client_id[0])
            print("listed", zk.get_children(root))
            deleted = threading.Event()
            zk.exists(f"{root}/eph", watch=lambda event: deleted.set() if event.type == "DELETED" else None)
            owner.stop(); owner.close()
            print("deleted event", deleted.wait(10))
            print("exists after close", zk.exists(f"{root}/eph"))
            print("listed after close", zk.get_children(root))
            zk.delete(root, recursive=True); zk.stop(); zk.close()
            """);

        Assert.Equal(
        [
            "owned by the other session True", "listed ['eph']", "deleted event True", "exists after close None",
            "listed after close []",
        ], lines);
    }

    private async Task<IReadOnlyList<string>> RunAsync(string script)
    {
        var run = await ToolRunner.RunKazooAsync(script, Server, _root);
        if (!run.Succeeded) Assert.Fail($"kazoo script failed against {Server}:\n{run}\n{ServerDiagnostics()}");
        return run.StdOut.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToList();
    }
}

public sealed class KazooAgainstKeeperTests(KeeperFixture fixture) : KazooTests, IClassFixture<KeeperFixture>
{
    protected override string Server => fixture.Keeper.ConnectString;
    protected override string ServerDiagnostics() => fixture.Keeper.Diagnostics();
}

public sealed class KazooAgainstApacheZooKeeperTests(ApacheZooKeeperServer zookeeper) : KazooTests, IClassFixture<ApacheZooKeeperServer>
{
    protected override string Server => zookeeper.ConnectString;
    protected override string ServerDiagnostics() => zookeeper.Diagnostics();
}
