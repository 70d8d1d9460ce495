using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Tests.Pipeline;

public sealed class ContainerManagerTests
{
    private readonly DataTree _tree = new(extendedTypes: true);
    private long _zxid;

    /// <summary>As a prepared create would: the parent's cversion goes up by one.</summary>
    private void Create(string path, long owner, long time = 0)
    {
        int parentCversion = _tree.Get(PathUtils.Parent(path))!.Cversion + 1;
        Assert.Equal(ErrorCode.Ok, _tree.Apply(++_zxid, time, 0, new CreateTxn(path, [], Acl.OpenAclUnsafe, owner, parentCversion)).Err);
    }

    private void Delete(string path) => Assert.Equal(ErrorCode.Ok, _tree.Apply(++_zxid, 0, 0, new DeleteTxn(path)).Err);

    private static List<string> Paths(List<Request> deletes) => deletes.Select(d =>
    {
        Assert.Equal(OpCode.DeleteContainer, d.Type);
        Assert.Null(d.Connection); // the server's own request: acts as super
        var r = new JuteReader(d.Body);
        return DeleteRequest.Read(ref r).Path;
    }).ToList();

    [Fact]
    public void An_emptied_container_is_deleted_but_one_that_never_had_children_is_not()
    {
        Create("/emptied", EphemeralType.ContainerOwner);
        Create("/emptied/child", 0);
        Delete("/emptied/child");
        Create("/fresh", EphemeralType.ContainerOwner);
        Create("/busy", EphemeralType.ContainerOwner);
        Create("/busy/child", 0);

        var manager = new ContainerManager(_tree, checkIntervalMs: 60_000);
        Assert.Equal(["/emptied"], Paths(manager.Check(now: 100_000)));
    }

    [Fact]
    public void A_ttl_node_goes_once_unmodified_for_its_ttl_and_only_without_children()
    {
        Create("/ttl", EphemeralType.TtlOwner(1000), time: 10_000);
        Create("/ttl-parent", EphemeralType.TtlOwner(1000), time: 10_000);
        Create("/ttl-parent/child", 0, time: 10_000);

        var manager = new ContainerManager(_tree, checkIntervalMs: 100);
        Assert.Empty(manager.Check(now: 10_500));
        Assert.Equal(["/ttl"], Paths(manager.Check(now: 11_500)));
    }

    [Fact]
    public void Checks_at_most_once_per_interval()
    {
        Create("/c", EphemeralType.ContainerOwner);
        Create("/c/x", 0);
        Delete("/c/x");
        var manager = new ContainerManager(_tree, checkIntervalMs: 1000);
        Assert.Single(manager.Check(now: 5000));
        Assert.Empty(manager.Check(now: 5999));
        Assert.Single(manager.Check(now: 6000));
    }

    [Fact]
    public void ticks_with_nothing_to_delete_allocate_nothing()
    {
        Create("/busy", EphemeralType.ContainerOwner);
        Create("/busy/child", 0);
        Create("/ttl", EphemeralType.TtlOwner(60_000), time: 0);
        var manager = new ContainerManager(_tree, checkIntervalMs: 1000);
        manager.Check(now: 1000); // the first call may size the reused list

        int deletes = 0;
        long before = GC.GetAllocatedBytesForCurrentThread();
        // Not due, or due (every 1000 ms) with nothing to delete.
        for (long now = 1001; now < 5000; now += 10) deletes += manager.Check(now).Count;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, deletes);
        Assert.Equal(0, allocated);
    }
}
