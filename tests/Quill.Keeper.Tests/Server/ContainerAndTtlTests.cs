using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>The server's own cleanup: empty containers that have had children, and TTL nodes past their TTL.</summary>
public sealed class ContainerAndTtlTests
{
    private static async Task<bool> ExistsAsync(RawZkClient c, string path)
    {
        var (h, _) = await c.CallAsync(OpCode.Exists, new PathWatchRequest(path, false));
        return h.Err == ErrorCode.Ok;
    }

    private static async Task<bool> EventuallyGoneAsync(RawZkClient c, string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (!await ExistsAsync(c, path)) return true;
            await Task.Delay(50);
        }
        return false;
    }

    /// <summary>A request body written by hand (a multi's ops).</summary>
    private sealed class Transaction(Action<JuteWriter> write) : IJuteRecord
    {
        public void Write(JuteWriter writer) => write(writer);
    }

    [Fact]
    public async Task container_goes_when_its_last_child_goes_but_not_before()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => o.ContainerCheckIntervalMs = 50);
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            int xid = c.SendRequest(OpCode.CreateContainer, new CreateRequest("/box", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Container));
            Assert.Equal(ErrorCode.Ok, (await c.ReadReplyAsync(xid)).Header.Err);
            await Task.Delay(300);
            Assert.True(await ExistsAsync(c, "/box"), "a container that never had children stays");
            await c.CallAsync(OpCode.Create, new CreateRequest("/box/item", [], [.. Acl.OpenAclUnsafe], 0));
            await Task.Delay(300);
            Assert.True(await ExistsAsync(c, "/box"), "a container with a child stays");
            await c.CallAsync(OpCode.Delete, new DeleteRequest("/box/item", -1));
            Assert.True(await EventuallyGoneAsync(c, "/box"), "the empty container was not deleted");
        }
    }

    [Fact]
    public async Task ttl_node_goes_after_its_ttl_unless_it_has_children()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => { o.ContainerCheckIntervalMs = 50; o.ExtendedTypesEnabled = true; });
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            // The TTL parent and its child in one transaction: a separate create, late on a busy machine, could find
            // the parent already expired. /short comes after it, so once /short has gone the parent's TTL is over too.
            var (multi, _) = await c.CallAsync(OpCode.Multi, new Transaction(w =>
            {
                new MultiHeader(OpCode.CreateTtl, false, (ErrorCode)(-1)).Write(w);
                new CreateRequest("/parent", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentWithTtl, 200).Write(w, withTtl: true);
                new MultiHeader(OpCode.Create, false, (ErrorCode)(-1)).Write(w);
                new CreateRequest("/parent/child", [], [.. Acl.OpenAclUnsafe], 0).Write(w);
                MultiHeader.End.Write(w);
            }));
            Assert.Equal(ErrorCode.Ok, multi.Err);
            int xid = c.SendRequest(OpCode.CreateTtl, new CreateRequest("/short", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentWithTtl, 200));
            var (h, body, _) = await c.ReadReplyAsync(xid);
            Assert.Equal(ErrorCode.Ok, h.Err);
            var r = new JuteReader(body);
            Assert.Equal(0, Create2Response.Read(ref r).Stat.EphemeralOwner); // clients see 0, as in ZooKeeper
            Assert.True(await EventuallyGoneAsync(c, "/short"), "the TTL node outlived its TTL");
            Assert.True(await ExistsAsync(c, "/parent"), "a TTL node with children stays");
        }
    }
}
