using Quill.Keeper.Auth;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>Requests written back to back, before any answer: each must be judged as ZooKeeper judges it.</summary>
public sealed class PipeliningTests : IAsyncLifetime
{
    private InProcessKeeper _keeper = null!;

    public async Task InitializeAsync() => _keeper = await InProcessKeeper.StartAsync();
    public async Task DisposeAsync() => await _keeper.DisposeAsync();

    private static void Frame(JuteWriter w, int xid, OpCode type, Action<JuteWriter>? body)
    {
        w.BeginFrame();
        new RequestHeader(xid, type).Write(w);
        body?.Invoke(w);
        w.EndFrame();
    }

    [Fact]
    public async Task NothingCreatedAfterCloseSessionOutlivesTheSession()
    {
        var (observer, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (observer) using (c)
        {
            var w = new JuteWriter();
            Frame(w, 1, OpCode.CloseSession, null);
            Frame(w, 2, OpCode.Create, x => new CreateRequest("/after-close", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral).Write(x));
            c.SendRaw(w.WrittenSpan);
            var (closed, _, _) = await c.ReadReplyAsync(1);
            Assert.Equal(ErrorCode.Ok, closed.Err);
            await c.IsClosedByServerAsync();
            var (h, _) = await observer.CallAsync(OpCode.Exists, new PathWatchRequest("/after-close", false));
            Assert.Equal(ErrorCode.NoNode, h.Err);
        }
    }

    [Fact]
    public async Task AnEphemeralStillBeingCreatedWhenItsSessionClosesIsGoneForTheNextWriter()
    {
        var (owner, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        var (next, nextSession) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (owner) using (next)
        {
            // The create is accepted but not yet applied (its fsync is under way) when the close is judged, and the
            // other session's create is judged right behind them: it must see the node as deleted with the session.
            var w = new JuteWriter();
            Frame(w, 1, OpCode.Create, x => new CreateRequest("/handover", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral).Write(x));
            Frame(w, 2, OpCode.CloseSession, null);
            var metrics = _keeper.Server.Processor!.Metrics;
            long before = Volatile.Read(ref metrics.PacketsReceived);
            owner.SendRaw(w.WrittenSpan);
            // The other session's create must be judged after the close: wait until the processor has taken both of
            // the owner's requests (the two connections are read independently, so sending first is not enough on a
            // busy machine). Polled closely, this is well before the create's fsync completes.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Volatile.Read(ref metrics.PacketsReceived) < before + 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the owner's create and close were not taken within 30 s");
                await Task.Yield();
            }
            var (created, _) = await next.CallAsync(OpCode.Create, new CreateRequest("/handover", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral));
            Assert.Equal(ErrorCode.Ok, created.Err);
            Assert.Equal(ErrorCode.Ok, (await owner.ReadReplyAsync(1)).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await owner.ReadReplyAsync(2)).Header.Err);
            // And the node that exists is the second session's, not a leftover of the first.
            var (exists, body) = await next.CallAsync(OpCode.Exists, new PathWatchRequest("/handover", false));
            Assert.Equal(ErrorCode.Ok, exists.Err);
            var reader = new JuteReader(body);
            Assert.Equal(nextSession.SessionId, Stat.Read(ref reader).EphemeralOwner);
        }
    }

    [Fact]
    public async Task AuthTakesEffectForTheWritesPipelinedBehindIt()
    {
        var (owner, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (owner) using (c)
        {
            var acl = new List<Acl> { new(Perms.All, new Id("digest", Acls.Digest("bob:pw"))) };
            Assert.Equal(ErrorCode.Ok, (await owner.CallAsync(OpCode.Create, new CreateRequest("/bobs", [], acl, 0))).Header.Err);
            var w = new JuteWriter();
            Frame(w, 1, OpCode.Create, x => new CreateRequest("/busy", [], [.. Acl.OpenAclUnsafe], 0).Write(x));
            Frame(w, Xids.Auth, OpCode.Auth, x => new AuthPacket(0, "digest", "bob:pw"u8.ToArray()).Write(x));
            Frame(w, 2, OpCode.SetData, x => new SetDataRequest("/bobs", [1], -1).Write(x));
            c.SendRaw(w.WrittenSpan);
            var (set, _, _) = await c.ReadReplyAsync(2);
            Assert.Equal(ErrorCode.Ok, set.Err);
        }
    }

    [Fact]
    public async Task AMalformedMultiLeavesNoTraceBehind()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            c.SendFrame(w =>
            {
                new RequestHeader(1, OpCode.Multi).Write(w);
                new MultiHeader(OpCode.Create, false, (ErrorCode)(-1)).Write(w);
                new CreateRequest("/phantom", [], [.. Acl.OpenAclUnsafe], 0).Write(w);
                w.WriteInt((int)OpCode.Create); // a truncated second header
            });
            var (multi, _, _) = await c.ReadReplyAsync(1);
            Assert.Equal(ErrorCode.MarshallingError, multi.Err);
            var (create, _) = await c.CallAsync(OpCode.Create, new CreateRequest("/phantom", [], [.. Acl.OpenAclUnsafe], 0));
            Assert.Equal(ErrorCode.Ok, create.Err);
        }
    }

    [Fact]
    public async Task RepliesToAClosingSessionKeepTheirOrder()
    {
        var (c, _) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (c)
        {
            var w = new JuteWriter();
            Frame(w, 1, OpCode.Create, x => new CreateRequest("/order", [], [.. Acl.OpenAclUnsafe], 0).Write(x));
            Frame(w, 2, OpCode.CloseSession, null);
            Frame(w, 3, OpCode.Exists, x => new PathWatchRequest("/order", false).Write(x));
            c.SendRaw(w.WrittenSpan);
            var xids = new List<int>();
            while (await c.ReadFrameAsync() is { } frame)
            {
                var r = new JuteReader(frame);
                xids.Add(ReplyHeader.Read(ref r).Xid);
            }
            Assert.Equal([1, 2], xids.Take(2));
            Assert.True(xids.Count <= 3 && (xids.Count < 3 || xids[2] == 3), string.Join(",", xids));
        }
    }
}
