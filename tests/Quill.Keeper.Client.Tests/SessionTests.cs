using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests;

/// <summary>
/// The session across failures: connection loss (through a proxy the test controls), a server crash and restart,
/// and expiry, which the client must report rather than paper over with a new session.
/// </summary>
public abstract class SessionTests(KeeperServerFixture server) : ClientTestBase(server)
{
    private static KeeperClientOptions Timeout(double seconds) => new() { SessionTimeout = TimeSpan.FromSeconds(seconds) };

    private readonly List<TcpProxy> _proxies = [];

    private Task<TcpProxy> ProxyAsync()
    {
        var proxy = new TcpProxy(Server.Port);
        _proxies.Add(proxy);
        return Task.FromResult(proxy);
    }

    [Fact]
    public async Task Session_moves_to_another_client_with_id_and_password()
    {
        var proxy = await ProxyAsync();
        var first = await ConnectAsync(connectString: proxy.ConnectString);
        proxy.Refusing = true; // the first client, cut off, cannot take the session back
        var second = await ConnectAsync(options: new KeeperClientOptions { SessionId = first.SessionId, SessionPassword = first.SessionPassword });
        Assert.Equal(first.SessionId, second.SessionId);
        await second.CreateAsync(P("shared"), null, mode: CreateMode.Ephemeral);
        Assert.Equal(first.SessionId, (await Client.ExistsAsync(P("shared")))!.Value.EphemeralOwner);
        // The server closed the first client's connection when the second attached; the first hears of it through
        // the proxy in its own time.
        await Soon(first.WaitForStateAsync(SessionState.Disconnected));
        Assert.Equal(SessionState.Disconnected, first.State);
    }

    [Fact]
    public async Task Session_closed_by_another_client_is_reported_as_expired()
    {
        var proxy = await ProxyAsync();
        var victim = await ConnectAsync(connectString: proxy.ConnectString);
        var states = new List<SessionState>();
        victim.StateChanged += (_, s) => { lock (states) states.Add(s); };
        await victim.CreateAsync(P("eph"), null, mode: CreateMode.Ephemeral);
        var watch = new KeeperWatch();
        await victim.ExistsAsync(P("other"), watch);

        // Attaching elsewhere closes the victim's connection; keep it away until the session is closed.
        proxy.Refusing = true;
        var killer = await KeeperClient.ConnectAsync(Server.ConnectString,
            new KeeperClientOptions { SessionId = victim.SessionId, SessionPassword = victim.SessionPassword });
        await killer.CloseAsync();
        Assert.Null(await Client.ExistsAsync(P("eph")));
        proxy.Refusing = false;

        await Soon(victim.WaitForStateAsync(SessionState.Expired));
        var ended = await Soon(watch.Fired);
        Assert.Equal((EventType.None, KeeperState.Expired), (ended.Type, ended.State));
        await ThrowsKeeper(ErrorCode.SessionExpired, () => victim.GetDataAsync(Root));
        await Soon(WaitUntilAsync(() => { lock (states) return states.Contains(SessionState.Expired); }));
        lock (states) Assert.Equal([SessionState.Disconnected, SessionState.Expired], states);
        // No new session behind the caller's back: a later request is refused locally, and, by the time another
        // session's request has been answered, the victim has not tried to connect again.
        int attempts = proxy.Attempts;
        await ThrowsKeeper(ErrorCode.SessionExpired, () => victim.ExistsAsync(Root));
        await Client.ExistsAsync(Root);
        Assert.Equal(attempts, proxy.Attempts);
        Assert.Equal(SessionState.Expired, victim.State);
    }

    [Fact]
    public async Task Session_expires_when_pings_stop()
    {
        var silent = await ConnectAsync(options: Timeout(Server.TickTime.TotalSeconds * 2));
        await silent.CreateAsync(P("eph"), null, mode: CreateMode.Ephemeral);
        silent.SuspendPings = true;
        await silent.WaitForStateAsync(SessionState.Expired).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(await Client.ExistsAsync(P("eph")));
    }

    [Fact]
    public async Task Wrong_password_cannot_attach()
    {
        var owner = await ConnectAsync();
        var e = await Assert.ThrowsAsync<KeeperException>(() => KeeperClient.ConnectAsync(Server.ConnectString,
            new KeeperClientOptions { SessionId = owner.SessionId, SessionPassword = new byte[16] }));
        Assert.Equal(ErrorCode.SessionExpired, e.Code);
        // The server drops the owner's connection on any attach attempt, but the session itself is unharmed.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                await owner.GetDataAsync(Root);
                break;
            }
            catch (KeeperException loss) when (loss.Code == ErrorCode.ConnectionLoss && attempt < 20)
            {
                await Task.Delay(100);
            }
        }
        Assert.Equal(SessionState.Connected, owner.State);
    }

    [Fact]
    public async Task Dropped_connection_reconnects_with_the_same_session()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        long session = client.SessionId;
        await client.CreateAsync(P("eph"), null, mode: CreateMode.Ephemeral);
        var states = new List<SessionState>();
        client.StateChanged += (_, s) => { lock (states) states.Add(s); };

        proxy.DropAll();
        await Soon(WaitUntilAsync(() => { lock (states) return states.Contains(SessionState.Disconnected); }));
        await Soon(client.WaitForStateAsync(SessionState.Connected));

        Assert.Equal(session, client.SessionId);
        Assert.Equal(session, (await client.ExistsAsync(P("eph")))!.Value.EphemeralOwner);
    }

    [Fact]
    public async Task Connections_dropped_again_and_again_for_longer_than_the_session_timeout_keep_the_session()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        long session = client.SessionId;
        await client.CreateAsync(P("eph"), null, mode: CreateMode.Ephemeral);
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(16); // past the 10 s session timeout
        int drops = 0;
        while (DateTime.UtcNow < until)
        {
            proxy.DropAll();
            drops++;
            await Soon(client.WaitForStateAsync(SessionState.Connected));
            await Task.Delay(Random.Shared.Next(50, 400));
            // A write between drops (retried if a drop catches it): the session is alive and ours.
            while (true)
            {
                try
                {
                    await client.SetDataAsync(P("eph"), BitConverter.GetBytes(drops), -1);
                    break;
                }
                catch (KeeperException e) when (e.Code == ErrorCode.ConnectionLoss)
                {
                    await Soon(client.WaitForStateAsync(SessionState.Connected));
                }
            }
        }
        Assert.Equal(SessionState.Connected, client.State);
        Assert.Equal(session, client.SessionId);
        Assert.Equal(session, (await client.ExistsAsync(P("eph")))!.Value.EphemeralOwner);
    }

    [Fact]
    public async Task Silent_server_is_abandoned_and_in_flight_calls_fail_with_ConnectionLoss()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString, options: Timeout(Server.TickTime.TotalSeconds * 4));
        // The client's clock starts at the last byte it heard: take ours just before that, so a slow start of the test
        // cannot make the wait look shorter than it was.
        var started = DateTime.UtcNow;
        await client.GetDataAsync(Root);
        proxy.Swallowing = true;
        await ThrowsKeeper(ErrorCode.ConnectionLoss, () => client.GetDataAsync(Root).WaitAsync(Patience));
        // Two thirds of the session timeout without a byte from the server, and the connection is given up.
        Assert.InRange(DateTime.UtcNow - started, client.SessionTimeout / 2, client.SessionTimeout);
        proxy.Swallowing = false;
        proxy.DropAll(); // the reconnect attempt made while swallowing would otherwise wait out its handshake
        await Soon(client.WaitForStateAsync(SessionState.Connected));
        await client.GetDataAsync(Root);
    }

    [Fact]
    public async Task A_caller_hearing_ConnectionLoss_finds_the_client_disconnected_and_its_retry_waits_for_the_reconnect()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        var heard = new List<string>();
        client.StateChanged += (_, s) => { lock (heard) heard.Add(s.ToString()); };
        proxy.Swallowing = true; // no answer: the call is still in flight when the connection drops
        var inFlight = client.GetDataAsync(Root);
        proxy.Refusing = true;
        proxy.DropAll();
        await ThrowsKeeper(ErrorCode.ConnectionLoss, () => inFlight.WaitAsync(Patience));
        lock (heard) heard.Add("ConnectionLoss");
        Assert.Equal(SessionState.Disconnected, client.State);

        // Retried at once, as a recipe does: this same loss must not fail it too.
        var retry = client.CreateAsync(P("retried"), null);
        proxy.Swallowing = false;
        proxy.Refusing = false;
        Assert.Equal(P("retried"), await Soon(retry));
        lock (heard) Assert.Equal(["Disconnected", "ConnectionLoss", "Connected"], heard);
    }

    [Fact]
    public async Task WaitForState_returns_once_the_StateChanged_handlers_have_run()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        bool handled = false;
        client.StateChanged += (_, s) =>
        {
            if (s != SessionState.Disconnected) return;
            Thread.Sleep(200); // a slow handler, such as a recipe giving up leadership
            Volatile.Write(ref handled, true);
        };
        // The Connected event is delivered on the client's event thread, possibly after ConnectAsync returns: until it
        // is, the delivered state is still the one before connecting, and the wait below would return at once.
        await Soon(client.WaitForStateAsync(SessionState.Connected));
        proxy.Refusing = true;
        proxy.DropAll();
        await Soon(client.WaitForStateAsync(SessionState.Disconnected));
        Assert.True(Volatile.Read(ref handled), "WaitForStateAsync returned before the handlers heard the change");
    }

    [Fact]
    public async Task Requests_made_while_disconnected_are_sent_after_reconnecting()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        proxy.Refusing = true;
        proxy.DropAll();
        await Soon(client.WaitForStateAsync(SessionState.Disconnected));
        var create = client.CreateAsync(P("queued"), Bytes("q"));
        // The client has tried to reconnect and been refused twice since: the request waited through that.
        int attempts = proxy.Attempts;
        await Soon(WaitUntilAsync(() => proxy.Attempts >= attempts + 2));
        Assert.False(create.IsCompleted);
        proxy.Refusing = false;
        Assert.Equal(P("queued"), await Soon(create));
    }

    [Fact]
    public async Task Watches_survive_a_reconnect_and_fire_for_changes_made_while_away()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        await Client.CreateAsync(P("data"), null);
        await Client.CreateAsync(P("gone"), null);
        var data = new KeeperWatch();
        var created = new KeeperWatch();
        var deleted = new KeeperWatch();
        var children = new KeeperWatch();
        await client.GetDataAsync(P("data"), data);
        await client.ExistsAsync(P("born"), created);
        await client.ExistsAsync(P("gone"), deleted);
        await client.GetChildrenAsync(Root, children);

        proxy.Refusing = true;
        proxy.DropAll();
        await Soon(client.WaitForStateAsync(SessionState.Disconnected));
        await Client.SetDataAsync(P("data"), Bytes("changed while away"));
        await Client.CreateAsync(P("born"), null);
        await Client.DeleteAsync(P("gone"));
        Assert.False(data.Fired.IsCompleted);
        proxy.Refusing = false;

        // setWatches carries the last zxid the client saw, so the server fires what changed after it.
        Assert.Equal(EventType.NodeDataChanged, (await Soon(data.Fired)).Type);
        Assert.Equal(EventType.NodeCreated, (await Soon(created.Fired)).Type);
        Assert.Equal(EventType.NodeDeleted, (await Soon(deleted.Fired)).Type);
        Assert.Equal(EventType.NodeChildrenChanged, (await Soon(children.Fired)).Type);
    }

    [Fact]
    public async Task Persistent_watch_is_re_registered_after_a_reconnect()
    {
        var proxy = await ProxyAsync();
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        await Client.CreateAsync(P("p"), null);
        var events = new List<WatchedEvent>();
        await client.AddWatchAsync(P("p"), e => { lock (events) events.Add(e); }, AddWatchMode.PersistentRecursive);

        // The proxy lets the client straight back in: it may be Connected again before a WaitForStateAsync(Disconnected)
        // called after DropAll would look, so listen before dropping.
        var disconnected = NextTime(client, SessionState.Disconnected);
        proxy.DropAll();
        await Soon(disconnected);
        await Soon(client.WaitForStateAsync(SessionState.Connected));
        await client.CheckWatchesAsync(P("p"), WatcherType.Any);
        await Client.CreateAsync(P("p/child"), null);
        await Soon(WaitUntilAsync(() => { lock (events) return events.Any(e => e.Path == P("p/child")); }));
    }

    [Fact]
    public async Task Server_crash_and_restart_keeps_session_ephemerals_and_watches()
    {
        var client = await ConnectAsync(options: Timeout(20));
        long session = client.SessionId;
        await client.CreateAsync(P("eph"), Bytes("e"), mode: CreateMode.Ephemeral);
        await client.CreateAsync(P("watched"), null);
        var data = new KeeperWatch();
        var persistent = new List<WatchedEvent>();
        await client.GetDataAsync(P("watched"), data);
        await client.AddWatchAsync(P("watched"), e => { lock (persistent) persistent.Add(e); }, AddWatchMode.Persistent);

        await Server.KillAsync();
        await Soon(client.WaitForStateAsync(SessionState.Disconnected));
        var readWhileDown = client.GetDataAsync(P("eph")); // queued until the session is back
        await Server.StartAgainAsync();

        try
        {
            await Soon(client.WaitForStateAsync(SessionState.Connected));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no reconnect after the restart (last zxid seen 0x{client.LastZxidSeen:x})\n{Server.Diagnostics()}");
        }
        Assert.Equal(session, client.SessionId);
        Assert.Equal("e", Text((await Soon(readWhileDown)).Data));
        var other = await ConnectAsync();
        Assert.Equal(session, (await other.ExistsAsync(P("eph")))!.Value.EphemeralOwner);
        await other.SetDataAsync(P("watched"), Bytes("after restart"));
        Assert.Equal(EventType.NodeDataChanged, (await Soon(data.Fired)).Type);
        await Soon(WaitUntilAsync(() => { lock (persistent) return persistent.Count == 1; }));
    }

    [Fact]
    public async Task Dead_host_in_the_connect_string_is_skipped()
    {
        using var reserved = ReserveDeadPort(out string dead);
        for (int i = 0; i < 3; i++)
        {
            await using var client = await KeeperClient.ConnectAsync($"{dead},{Server.ConnectString}{Root}");
            Assert.Equal("/x" + i, await client.CreateAsync("/x" + i, null));
        }
    }

    [Fact]
    public async Task Connecting_to_nothing_times_out()
    {
        using var reserved = ReserveDeadPort(out string dead);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => KeeperClient.ConnectAsync(dead,
            new KeeperClientOptions { ConnectTimeout = TimeSpan.FromSeconds(1) }));
        Assert.Contains(dead, e.Message);
    }

    [Fact]
    public async Task Close_deletes_ephemerals_at_once_and_refuses_further_calls()
    {
        var client = await ConnectAsync();
        await client.CreateAsync(P("eph"), null, mode: CreateMode.Ephemeral);
        await client.CloseAsync();
        Assert.Equal(SessionState.Closed, client.State);
        Assert.Null(await Client.ExistsAsync(P("eph")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.ExistsAsync(Root));
        await client.CloseAsync(); // twice is fine
    }

    /// <summary>
    /// A port that refuses connections: bound but not listening, and held for the test, so no other process (a test
    /// server probing for a free port) can start listening there meanwhile.
    /// </summary>
    private static System.Net.Sockets.Socket ReserveDeadPort(out string address)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        address = $"127.0.0.1:{((System.Net.IPEndPoint)socket.LocalEndPoint!).Port}";
        return socket;
    }

    /// <summary>Completes the next time the client reaches <paramref name="state"/>; call it before causing the change.</summary>
    private static Task NextTime(KeeperClient client, SessionState state)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, s) =>
        {
            if (s == state) reached.TrySetResult();
        };
        return reached.Task;
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        while (!condition()) await Task.Delay(20);
        return true;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var proxy in _proxies) await proxy.DisposeAsync();
    }
}

public sealed class SessionTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : SessionTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class SessionTestsOnKeeper(QuillKeeperFixture server)
    : SessionTests(server), IClassFixture<QuillKeeperFixture>;
