using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests;

/// <summary>multi is all-or-nothing with one result per op; multiRead answers each read on its own.</summary>
public abstract class MultiTests(KeeperServerFixture server) : ClientTestBase(server)
{
    [Fact]
    public async Task Successful_transaction_returns_one_result_per_op()
    {
        await Client.CreateAsync(P("existing"), Bytes("old"));
        await Client.CreateAsync(P("doomed"), null);
        var results = await Client.MultiAsync([
            Op.Create(P("new"), Bytes("n")),
            Op.Create(P("seq-"), null, mode: CreateMode.PersistentSequential),
            Op.Check(P("existing"), 0),
            Op.SetData(P("existing"), Bytes("new"), 0),
            Op.Delete(P("doomed")),
        ]);

        Assert.Equal(5, results.Count);
        Assert.Equal(P("new"), Assert.IsType<CreateResult>(results[0]).Path);
        Assert.Matches(@"seq-\d{10}$", Assert.IsType<CreateResult>(results[1]).Path);
        Assert.IsType<CheckResult>(results[2]);
        Assert.Equal(1, Assert.IsType<SetDataResult>(results[3]).Stat.Version);
        Assert.IsType<DeleteResult>(results[4]);

        Assert.Equal("new", Text((await Client.GetDataAsync(P("existing"))).Data));
        Assert.Null(await Client.ExistsAsync(P("doomed")));
    }

    [Fact]
    public async Task Failed_transaction_applies_nothing_and_reports_each_op()
    {
        await Client.CreateAsync(P("existing"), null);
        var e = await Assert.ThrowsAsync<KeeperMultiException>(() => Client.MultiAsync([
            Op.Create(P("a"), null),
            Op.SetData(P("existing"), Bytes("x")),
            Op.Check(P("existing"), 7),
            Op.Create(P("b"), null),
        ]));

        Assert.Equal(ErrorCode.BadVersion, e.Code);
        Assert.Equal(2, e.FailedIndex);
        Assert.Equal(P("existing"), e.Path);
        Assert.Equal(
            [ErrorCode.Ok, ErrorCode.Ok, ErrorCode.BadVersion, ErrorCode.RuntimeInconsistency],
            e.Results.Select(r => Assert.IsType<ErrorResult>(r).Error));
        Assert.Null(await Client.ExistsAsync(P("a")));
        Assert.Equal(0, (await Client.ExistsAsync(P("existing")))!.Value.Version);
    }

    [Fact]
    public async Task Transaction_failing_on_NodeExists_names_that_error()
    {
        await Client.CreateAsync(P("taken"), null);
        var e = await Assert.ThrowsAsync<KeeperMultiException>(() => Client.MultiAsync([
            Op.Create(P("fresh"), null), Op.Create(P("taken"), null),
        ]));
        Assert.Equal(ErrorCode.NodeExists, e.Code);
        Assert.Equal(1, e.FailedIndex);
        Assert.Null(await Client.ExistsAsync(P("fresh")));
    }

    [Fact]
    public async Task Transaction_creates_containers_and_ttl_nodes_with_stat()
    {
        var results = await Client.MultiAsync([
            Op.Create(P("c"), null, mode: CreateMode.Container),
            Op.Create(P("t"), null, mode: CreateMode.PersistentWithTtl, ttl: 60_000),
        ]);
        Assert.NotNull(Assert.IsType<CreateResult>(results[0]).Stat);
        Assert.Equal(P("t"), Assert.IsType<CreateResult>(results[1]).Path);
    }

    [Fact]
    public async Task Empty_transaction_succeeds()
    {
        Assert.Empty(await Client.MultiAsync([]));
    }

    [Fact]
    public async Task Multi_read_returns_partial_results()
    {
        await Client.CreateAsync(P("r"), Bytes("data"));
        await Client.CreateAsync(P("r/kid"), null);
        var results = await Client.MultiReadAsync([
            Op.GetData(P("r")), Op.GetChildren(P("r")), Op.GetData(P("missing")),
        ]);
        Assert.Equal("data", Text(Assert.IsType<GetDataResult>(results[0]).Data));
        Assert.Equal(["kid"], Assert.IsType<GetChildrenResult>(results[1]).Children);
        Assert.Equal(ErrorCode.NoNode, Assert.IsType<ErrorResult>(results[2]).Error);
    }

    [Fact]
    public async Task Read_and_write_ops_do_not_mix()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client.MultiAsync([Op.GetData(Root)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Client.MultiReadAsync([Op.Delete(Root)]));
    }
}

public sealed class MultiTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : MultiTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class MultiTestsOnKeeper(QuillKeeperFixture server)
    : MultiTests(server), IClassFixture<QuillKeeperFixture>;
