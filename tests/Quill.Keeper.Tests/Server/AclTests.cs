using Quill.Keeper.Auth;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

public sealed class AclTests
{
    private static async Task AuthAsync(RawZkClient c, string userAndPassword)
    {
        c.SendFrame(w => { new RequestHeader(Xids.Auth, OpCode.Auth).Write(w); new AuthPacket(0, "digest", System.Text.Encoding.UTF8.GetBytes(userAndPassword)).Write(w); });
        var (h, _, _) = await c.ReadReplyAsync(Xids.Auth);
        Assert.Equal(ErrorCode.Ok, h.Err);
    }

    [Fact]
    public async Task digest_acl_guards_the_node_and_super_digest_bypasses_it()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => o.SuperDigest = Acls.Digest("super:secret"));
        var (owner, _) = await RawZkClient.ConnectAsync(keeper.Port);
        var (stranger, _) = await RawZkClient.ConnectAsync(keeper.Port);
        var (admin, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (owner) using (stranger) using (admin)
        {
            await AuthAsync(owner, "alice:pw");
            var (h, _) = await owner.CallAsync(OpCode.Create, new CreateRequest("/private", "x"u8.ToArray(), [new Acl(Perms.All, Id.AuthIds)], 0));
            Assert.Equal(ErrorCode.Ok, h.Err);

            Assert.Equal(ErrorCode.NoAuth, (await stranger.CallAsync(OpCode.GetData, new PathWatchRequest("/private", false))).Header.Err);
            Assert.Equal(ErrorCode.NoAuth, (await stranger.CallAsync(OpCode.SetData, new SetDataRequest("/private", [], -1))).Header.Err);
            Assert.Equal(ErrorCode.NoAuth, (await stranger.CallAsync(OpCode.Create, new CreateRequest("/private/c", [], [.. Acl.OpenAclUnsafe], 0))).Header.Err);
            // exists needs no permission, as in ZooKeeper.
            Assert.Equal(ErrorCode.Ok, (await stranger.CallAsync(OpCode.Exists, new PathWatchRequest("/private", false))).Header.Err);

            await AuthAsync(admin, "super:secret");
            Assert.Equal(ErrorCode.Ok, (await admin.CallAsync(OpCode.SetData, new SetDataRequest("/private", "by super"u8.ToArray(), -1))).Header.Err);
            var (g, body) = await owner.CallAsync(OpCode.GetAcl, new PathRequest("/private"));
            Assert.Equal(ErrorCode.Ok, g.Err);
            var r = new JuteReader(body);
            Assert.Equal([new Acl(Perms.All, new Id("digest", Acls.Digest("alice:pw")))], GetAclResponse.Read(ref r).Acl);
        }
    }

    [Fact]
    public async Task unknown_auth_scheme_is_auth_failed_and_closes_the_connection()
    {
        await using var keeper = await InProcessKeeper.StartAsync();
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            c.SendFrame(w => { new RequestHeader(Xids.Auth, OpCode.Auth).Write(w); new AuthPacket(0, "kerberos", [1]).Write(w); });
            var (h, _, _) = await c.ReadReplyAsync(Xids.Auth);
            Assert.Equal(ErrorCode.AuthFailed, h.Err);
            Assert.True(await c.IsClosedByServerAsync());
        }
    }

    [Fact]
    public async Task ip_acl_matches_the_client_address_and_ranges()
    {
        await using var keeper = await InProcessKeeper.StartAsync();
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            await c.CallAsync(OpCode.Create, new CreateRequest("/lo", [], [new Acl(Perms.All, new Id("ip", "127.0.0.0/8"))], 0));
            await c.CallAsync(OpCode.Create, new CreateRequest("/other", [], [new Acl(Perms.All, new Id("ip", "10.1.2.3"))], 0));
            Assert.Equal(ErrorCode.Ok, (await c.CallAsync(OpCode.GetData, new PathWatchRequest("/lo", false))).Header.Err);
            Assert.Equal(ErrorCode.NoAuth, (await c.CallAsync(OpCode.GetData, new PathWatchRequest("/other", false))).Header.Err);
        }
    }
}
