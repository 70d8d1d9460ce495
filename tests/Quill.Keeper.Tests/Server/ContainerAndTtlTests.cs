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
        for (int i = 0; i < 100; i++)
        {
            if (!await ExistsAsync(c, path)) return true;
            await Task.Delay(50);
        }
        return false;
    }

    [Fact]
    public async Task ContainerGoesWhenItsLastChildGoesButNotBefore()
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
    public async Task TtlNodeGoesAfterItsTtlUnlessItHasChildren()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => { o.ContainerCheckIntervalMs = 50; o.ExtendedTypesEnabled = true; });
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            foreach (var path in new[] { "/short", "/parent" })
            {
                int xid = c.SendRequest(OpCode.CreateTtl, new CreateRequest(path, [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentWithTtl, 200));
                var (h, body, _) = await c.ReadReplyAsync(xid);
                Assert.Equal(ErrorCode.Ok, h.Err);
                var r = new JuteReader(body);
                Assert.Equal(0, Create2Response.Read(ref r).Stat.EphemeralOwner); // clients see 0, as in ZooKeeper
            }
            await c.CallAsync(OpCode.Create, new CreateRequest("/parent/child", [], [.. Acl.OpenAclUnsafe], 0));
            Assert.True(await EventuallyGoneAsync(c, "/short"), "the TTL node outlived its TTL");
            Assert.True(await ExistsAsync(c, "/parent"), "a TTL node with children stays");
        }
    }
}
