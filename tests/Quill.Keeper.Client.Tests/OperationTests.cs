using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests;

/// <summary>Every znode operation, its results, and the Stat bookkeeping a server must get right.</summary>
public abstract class OperationTests(KeeperServerFixture server) : ClientTestBase(server)
{
    [Fact]
    public async Task Create_then_get_returns_data_and_a_fresh_stat()
    {
        string path = await Client.CreateAsync(P("a"), Bytes("hello"));
        Assert.Equal(P("a"), path);

        var node = await Client.GetDataAsync(path);
        Assert.Equal("hello", Text(node.Data));
        Assert.Equal(0, node.Stat.Version);
        Assert.Equal(5, node.Stat.DataLength);
        Assert.Equal(0, node.Stat.EphemeralOwner);
        Assert.Equal(node.Stat.Czxid, node.Stat.Mzxid);
        Assert.True(node.Stat.Ctime > 0);
    }

    [Fact]
    public async Task Create_with_stat_returns_the_same_stat_as_exists()
    {
        var created = await Client.CreateWithStatAsync(P("b"), Bytes("x"));
        var stat = await Client.ExistsAsync(P("b"));
        Assert.Equal(P("b"), created.Path);
        Assert.Equal(stat, created.Stat);
    }

    [Fact]
    public async Task Sequential_nodes_get_increasing_ten_digit_suffixes()
    {
        string first = await Client.CreateAsync(P("seq-"), null, mode: CreateMode.PersistentSequential);
        string second = await Client.CreateAsync(P("seq-"), null, mode: CreateMode.PersistentSequential);
        Assert.Matches(@"/seq-\d{10}$", first);
        Assert.True(string.CompareOrdinal(first, second) < 0, $"{first} < {second}");
        var stat = await Client.ExistsAsync(Root);
        Assert.Equal(2, stat!.Value.NumChildren);
    }

    [Fact]
    public async Task Ephemeral_node_belongs_to_the_session_and_goes_with_it()
    {
        var other = await ConnectAsync();
        await other.CreateAsync(P("eph"), null, mode: CreateMode.Ephemeral);
        var stat = await Client.ExistsAsync(P("eph"));
        Assert.Equal(other.SessionId, stat!.Value.EphemeralOwner);
        Assert.Equal([P("eph")], await other.GetEphemeralsAsync(Root));

        await other.CloseAsync();
        Assert.Null(await Client.ExistsAsync(P("eph")));
    }

    [Fact]
    public async Task Set_data_bumps_version_and_checks_it()
    {
        await Client.CreateAsync(P("v"), Bytes("1"));
        var stat = await Client.SetDataAsync(P("v"), Bytes("2"), version: 0);
        Assert.Equal(1, stat.Version);
        stat = await Client.SetDataAsync(P("v"), Bytes("three"));
        Assert.Equal(2, stat.Version);
        Assert.Equal(5, stat.DataLength);
        Assert.Equal("three", Text((await Client.GetDataAsync(P("v"))).Data));
    }

    [Fact]
    public async Task Delete_with_version_and_without()
    {
        await Client.CreateAsync(P("d1"), null);
        await Client.CreateAsync(P("d2"), null);
        await Client.DeleteAsync(P("d1"), version: 0);
        await Client.DeleteAsync(P("d2"));
        Assert.Null(await Client.ExistsAsync(P("d1")));
        Assert.Null(await Client.ExistsAsync(P("d2")));
    }

    [Fact]
    public async Task Children_list_and_children_with_stat()
    {
        foreach (var name in new[] { "x", "y", "z" }) await Client.CreateAsync(P(name), null);
        var children = await Client.GetChildrenAsync(Root);
        Assert.Equal(["x", "y", "z"], children.Order(StringComparer.Ordinal));

        var withStat = await Client.GetChildrenWithStatAsync(Root);
        Assert.Equal(3, withStat.Stat.NumChildren);
        Assert.Equal(3, withStat.Stat.Cversion);
        Assert.Equal(3, withStat.Children.Count);
    }

    [Fact]
    public async Task All_children_number_counts_every_descendant()
    {
        await Client.CreateAsync(P("a"), null);
        await Client.CreateAsync(P("a/b"), null);
        await Client.CreateAsync(P("a/b/c"), null);
        await Client.CreateAsync(P("d"), null);
        Assert.Equal(4, await Client.GetAllChildrenNumberAsync(Root));
        Assert.Equal(2, await Client.GetAllChildrenNumberAsync(P("a")));
    }

    [Fact]
    public async Task Acl_round_trip_and_acl_version()
    {
        await Client.CreateAsync(P("acl"), null);
        var acl = await Client.GetAclAsync(P("acl"));
        Assert.Equal(Acl.OpenAclUnsafe, acl.Acl);
        Assert.Equal(0, acl.Stat.Aversion);

        var stat = await Client.SetAclAsync(P("acl"), Acl.ReadAclUnsafe, aclVersion: 0);
        Assert.Equal(1, stat.Aversion);
        Assert.Equal(Acl.ReadAclUnsafe, (await Client.GetAclAsync(P("acl"))).Acl);
    }

    [Fact]
    public async Task Container_node_is_created_with_the_container_opcode()
    {
        string path = await Client.CreateContainerAsync(P("container"), Bytes("c"));
        Assert.Equal(P("container"), path);
        var node = await Client.GetDataAsync(path);
        Assert.Equal("c", Text(node.Data));
    }

    [Fact]
    public async Task Ttl_node_is_created_and_readable()
    {
        var created = await Client.CreateWithStatAsync(P("ttl"), Bytes("t"), mode: CreateMode.PersistentWithTtl, ttl: 60_000);
        Assert.Equal(P("ttl"), created.Path);
        Assert.Equal("t", Text((await Client.GetDataAsync(P("ttl"))).Data));
        string seq = await Client.CreateAsync(P("ttlseq-"), null, mode: CreateMode.PersistentSequentialWithTtl, ttl: 60_000);
        Assert.Matches(@"ttlseq-\d{10}$", seq);
    }

    [Fact]
    public async Task Ttl_is_validated_before_sending()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Client.CreateAsync(P("t"), null, mode: CreateMode.PersistentWithTtl));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.CreateAsync(P("t"), null, ttl: 1000));
    }

    [Fact]
    public async Task Invalid_paths_are_rejected_client_side()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client.CreateAsync("no-slash", null));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.GetDataAsync(Root + "/"));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.ExistsAsync(Root + "//x"));
    }

    [Fact]
    public async Task Sync_brings_the_client_up_to_another_sessions_latest_write()
    {
        var other = await ConnectAsync();
        await other.CreateAsync(P("s"), null);
        var written = await other.SetDataAsync(P("s"), Bytes("v"));
        await Client.SyncAsync(P("s"));
        // The sync's answer carries the zxid the server has applied, which covers the other session's write.
        Assert.True(Client.LastZxidSeen >= written.Mzxid, $"after sync the client has seen zxid {Client.LastZxidSeen:x}, not the write's {written.Mzxid:x}");
        Assert.Equal("v", Text((await Client.GetDataAsync(P("s"))).Data));
    }

    [Fact]
    public async Task Digest_auth_and_whoami()
    {
        var before = await Client.WhoAmIAsync();
        Assert.Contains(before, c => c.AuthScheme == "ip");
        await Client.AddAuthAsync("digest", Bytes("alice:secret"));
        var after = await Client.WhoAmIAsync();
        Assert.Contains(after, c => c.AuthScheme == "digest" && c.User == "alice");
    }

    [Fact]
    public async Task Many_concurrent_requests_each_get_their_own_reply()
    {
        var creates = Enumerable.Range(0, 200).Select(i => Client.CreateAsync(P($"n{i}"), Bytes(i.ToString()))).ToList();
        await Task.WhenAll(creates);
        var reads = Enumerable.Range(0, 200).Select(i => Client.GetDataAsync(P($"n{i}"))).ToList();
        var nodes = await Task.WhenAll(reads);
        for (int i = 0; i < nodes.Length; i++) Assert.Equal(i.ToString(), Text(nodes[i].Data));
    }

    [Fact]
    public async Task Large_payload_round_trips()
    {
        var data = new byte[900 * 1024];
        Random.Shared.NextBytes(data);
        await Client.CreateAsync(P("big"), data);
        Assert.Equal(data, (await Client.GetDataAsync(P("big"))).Data);
    }
}

public sealed class OperationTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : OperationTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class OperationTestsOnKeeper(QuillKeeperFixture server)
    : OperationTests(server), IClassFixture<QuillKeeperFixture>;
