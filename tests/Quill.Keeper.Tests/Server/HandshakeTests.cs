using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>The connect handshake quirks that real clients depend on.</summary>
public sealed class HandshakeTests : IAsyncLifetime
{
    private InProcessKeeper _keeper = null!;

    // ZooKeeper's own bounds (2 and 20 ticks). A 250 ms tick keeps expiry tests quick while the longest session
    // here (4 s, for the client that must outlive a 1 s one) keeps a margin a loaded machine cannot eat.
    public async Task InitializeAsync() => _keeper = await InProcessKeeper.StartAsync(o =>
    {
        o.TickTime = 250;
        o.MaxSessionTimeout = -1;
    });
    public async Task DisposeAsync() => await _keeper.DisposeAsync();

    [Fact]
    public async Task ReadOnlyByteIsEchoedOnlyWhenTheClientSentIt()
    {
        using var withFlag = RawZkClient.Open(_keeper.Port);
        withFlag.SendFrame(w => new ConnectRequest(0, 0, 3000, 0, new byte[16], false, HasReadOnlyFlag: true).Write(w));
        var frame = await withFlag.ReadFrameAsync();
        Assert.Equal(4 + 4 + 8 + 4 + 16 + 1, frame!.Length);

        using var without = RawZkClient.Open(_keeper.Port);
        without.SendFrame(w => new ConnectRequest(0, 0, 3000, 0, new byte[16], false, HasReadOnlyFlag: false).Write(w));
        frame = await without.ReadFrameAsync();
        Assert.Equal(4 + 4 + 8 + 4 + 16, frame!.Length);
    }

    [Fact]
    public async Task TimeoutIsClampedToTwoAndTwentyTicks()
    {
        var (low, lowResponse) = await RawZkClient.ConnectAsync(_keeper.Port, timeout: 1);
        var (high, highResponse) = await RawZkClient.ConnectAsync(_keeper.Port, timeout: 1_000_000);
        using (low) using (high)
        {
            Assert.Equal(500, lowResponse.Timeout);
            Assert.Equal(5000, highResponse.Timeout);
            Assert.NotEqual(0, lowResponse.SessionId);
            Assert.Equal(16, lowResponse.Password.Length);
        }
    }

    [Fact]
    public async Task UnknownSessionGetsZeroTimeoutZeroIdZeroPasswordAndIsClosed()
    {
        using var c = RawZkClient.Open(_keeper.Port);
        c.SendFrame(w => new ConnectRequest(0, 0, 3000, 0x1234567, new byte[16], false, true).Write(w));
        var frame = await c.ReadFrameAsync();
        var r = new JuteReader(frame);
        var response = ConnectResponse.Read(ref r);
        Assert.Equal(0, response.Timeout);
        Assert.Equal(0, response.SessionId);
        Assert.Equal(new byte[16], response.Password);
        Assert.True(await c.IsClosedByServerAsync());
    }

    [Fact]
    public async Task WrongPasswordIsTreatedAsAnInvalidSession()
    {
        var (first, session) = await RawZkClient.ConnectAsync(_keeper.Port);
        using (first)
        {
            using var c = RawZkClient.Open(_keeper.Port);
            var wrong = (byte[])session.Password.Clone();
            wrong[0] ^= 0xFF;
            c.SendFrame(w => new ConnectRequest(0, 0, 3000, session.SessionId, wrong, false, true).Write(w));
            var frame = await c.ReadFrameAsync();
            var r = new JuteReader(frame);
            Assert.Equal(0, ConnectResponse.Read(ref r).Timeout);
        }
    }

    [Fact]
    public async Task ClientThatHasSeenAFutureZxidIsRefused()
    {
        using var c = RawZkClient.Open(_keeper.Port);
        c.SendFrame(w => new ConnectRequest(0, 1L << 40, 3000, 0, new byte[16], false, true).Write(w));
        Assert.Null(await c.ReadFrameAsync());
    }

    [Fact]
    public async Task ResumedSessionKeepsItsIdAndItsEphemerals()
    {
        var (first, session) = await RawZkClient.ConnectAsync(_keeper.Port, timeout: 5000);
        var (h, _) = await first.CallAsync(OpCode.Create, new CreateRequest("/eph", [1], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral));
        Assert.Equal(ErrorCode.Ok, h.Err);
        first.Dispose();

        using var again = RawZkClient.Open(_keeper.Port);
        again.SendFrame(w => new ConnectRequest(0, h.Zxid, 5000, session.SessionId, session.Password, false, true).Write(w));
        var frame = await again.ReadFrameAsync();
        var r = new JuteReader(frame);
        var resumed = ConnectResponse.Read(ref r);
        Assert.Equal(session.SessionId, resumed.SessionId);
        var (eh, body) = await again.CallAsync(OpCode.GetEphemerals, new PathRequest("/"));
        Assert.Equal(ErrorCode.Ok, eh.Err);
        var br = new JuteReader(body);
        Assert.Equal(["/eph"], GetEphemeralsResponse.Read(ref br).Ephemerals);
    }

    /// <summary>node-zookeeper-client writes its auth and SetWatches packets right behind the ConnectRequest.</summary>
    [Fact]
    public async Task PipelinedAuthAndSetWatchesBehindTheHandshakeAreServedInOrder()
    {
        using var c = RawZkClient.Open(_keeper.Port);
        var w = new JuteWriter();
        w.BeginFrame(); new ConnectRequest(0, 0, 3000, 0, new byte[16], false, false).Write(w); w.EndFrame();
        w.BeginFrame(); new RequestHeader(Xids.Auth, OpCode.Auth).Write(w); new AuthPacket(0, "digest", "u:p"u8.ToArray()).Write(w); w.EndFrame();
        w.BeginFrame(); new RequestHeader(Xids.SetWatches, OpCode.SetWatches).Write(w); new SetWatchesRequest(0, [], ["/nothing"], [], [], []).Write(w, version2: false); w.EndFrame();
        w.BeginFrame(); new RequestHeader(1, OpCode.WhoAmI).Write(w); w.EndFrame();
        c.SendRaw(w.WrittenSpan);

        var connect = await c.ReadFrameAsync();
        Assert.Equal(4 + 4 + 8 + 4 + 16, connect!.Length);
        var (auth, _, _) = await c.ReadReplyAsync(Xids.Auth);
        Assert.Equal(ErrorCode.Ok, auth.Err);
        var (setWatches, _, _) = await c.ReadReplyAsync(Xids.SetWatches);
        Assert.Equal(ErrorCode.Ok, setWatches.Err);
        var (who, body, _) = await c.ReadReplyAsync(1);
        var r = new JuteReader(body);
        var infos = WhoAmIResponse.Read(ref r).ClientInfo;
        Assert.Contains(new ClientInfo("digest", "u"), infos);
        Assert.Contains(new ClientInfo("ip", "127.0.0.1"), infos);
    }

    [Fact]
    public async Task SessionExpiresDeletesEphemeralsAndFiresWatches()
    {
        var (watcher, _) = await RawZkClient.ConnectAsync(_keeper.Port, timeout: 4000);
        var (owner, _) = await RawZkClient.ConnectAsync(_keeper.Port, timeout: 1000);
        using (watcher)
        {
            var (h, _) = await owner.CallAsync(OpCode.Create, new CreateRequest("/expiring", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral));
            Assert.Equal(ErrorCode.Ok, h.Err);
            var (eh, _) = await watcher.CallAsync(OpCode.Exists, new PathWatchRequest("/expiring", true));
            Assert.Equal(ErrorCode.Ok, eh.Err);
            owner.Dispose(); // no more pings: the session runs out after a second

            var frame = await watcher.ReadFrameAsync();
            var r = new JuteReader(frame);
            Assert.Equal(Xids.Notification, ReplyHeader.Read(ref r).Xid);
            Assert.Equal(new WatcherEvent(EventType.NodeDeleted, KeeperState.SyncConnected, "/expiring"), WatcherEvent.Read(ref r));
        }
    }

    [Fact]
    public async Task AnExpiredSessionsConnectionClosesOnlyOnceItsEphemeralsAreGone()
    {
        var (observer, _) = await RawZkClient.ConnectAsync(_keeper.Port, timeout: 4000);
        var (silent, _) = await RawZkClient.ConnectAsync(_keeper.Port, timeout: 1000);
        using (observer) using (silent)
        {
            var (h, _) = await silent.CallAsync(OpCode.Create, new CreateRequest("/lingering", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.Ephemeral));
            Assert.Equal(ErrorCode.Ok, h.Err);
            // The silent client sends no pings; when Keeper closes its connection, the expiry must be complete.
            Assert.True(await silent.IsClosedByServerAsync());
            var (eh, _) = await observer.CallAsync(OpCode.Exists, new PathWatchRequest("/lingering", false));
            Assert.Equal(ErrorCode.NoNode, eh.Err);
        }
    }
}
