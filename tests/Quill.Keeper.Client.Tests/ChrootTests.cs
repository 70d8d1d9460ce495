using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests;

/// <summary>A client rooted at a chroot sees its paths relative to it, in results and in events alike.</summary>
public abstract class ChrootTests(KeeperServerFixture server) : ClientTestBase(server)
{
    [Fact]
    public async Task Paths_are_relative_to_the_chroot_both_ways()
    {
        var rooted = await ConnectAsync(chroot: Root);
        Assert.Equal("/a", await rooted.CreateAsync("/a", Bytes("1")));
        string seq = await rooted.CreateAsync("/s-", null, mode: CreateMode.EphemeralSequential);
        Assert.StartsWith("/s-", seq);
        Assert.Equal("1", Text((await Client.GetDataAsync(P("a"))).Data));
        Assert.Equal(["a", Path.GetFileName(seq)], (await rooted.GetChildrenAsync("/")).Order(StringComparer.Ordinal));
        Assert.Equal([seq], await rooted.GetEphemeralsAsync());
        Assert.Equal("/b", (await rooted.CreateWithStatAsync("/b", null)).Path);
    }

    [Fact]
    public async Task Multi_results_and_errors_use_client_paths()
    {
        var rooted = await ConnectAsync(chroot: Root);
        var results = await rooted.MultiAsync([Op.Create("/m", null), Op.Create("/m/q-", null, mode: CreateMode.PersistentSequential)]);
        Assert.Equal("/m", ((CreateResult)results[0]).Path);
        Assert.StartsWith("/m/q-", ((CreateResult)results[1]).Path);
        var e = await ThrowsKeeper(ErrorCode.NoNode, () => rooted.GetDataAsync("/nope"));
        Assert.Equal("/nope", e.Path);
    }

    [Fact]
    public async Task Watch_events_carry_client_paths()
    {
        var rooted = await ConnectAsync(chroot: Root);
        await rooted.CreateAsync("/w", null);
        var data = new KeeperWatch();
        var root = new KeeperWatch();
        await rooted.GetDataAsync("/w", data);
        await rooted.GetChildrenAsync("/", root);

        await Client.SetDataAsync(P("w"), Bytes("changed"));
        await Client.CreateAsync(P("new"), null);

        Assert.Equal(new WatchedEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, "/w"), await Soon(data.Fired));
        Assert.Equal(new WatchedEvent(EventType.NodeChildrenChanged, KeeperState.SyncConnected, "/"), await Soon(root.Fired));
    }

    [Fact]
    public async Task Missing_chroot_node_gives_NoNode()
    {
        var rooted = await ConnectAsync(chroot: P("absent"));
        await ThrowsKeeper(ErrorCode.NoNode, () => rooted.CreateAsync("/x", null));
    }
}

public sealed class ChrootTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : ChrootTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class ChrootTestsOnKeeper(QuillKeeperFixture server)
    : ChrootTests(server), IClassFixture<QuillKeeperFixture>;
