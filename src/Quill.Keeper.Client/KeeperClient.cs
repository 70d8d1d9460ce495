using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Client.Connection;
using Quill.Keeper.Client.Watches;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

/// <summary>
/// An async ZooKeeper-protocol client: one session, kept across connection losses, spoken over one connection at a
/// time to one server of the connect string. Thread-safe; every operation may run concurrently with the others and
/// replies arrive in the order the requests were sent.
/// <para>
/// Watches are callbacks (<see cref="Action{WatchedEvent}"/>, or a <see cref="KeeperWatch"/> to await one). They,
/// <see cref="StateChanged"/> handlers and the completion of every operation's Task run in one ordered stream, so a
/// watcher always sees its event before any caller sees a later reply. Callbacks must not block on the client.
/// </para>
/// <para>
/// Connection loss fails in-flight operations with <see cref="ErrorCode.ConnectionLoss"/>, raises
/// <see cref="SessionState.Disconnected"/> and reconnects to the next host with the same session, re-registering every
/// watch. If the server has expired the session the client raises <see cref="SessionState.Expired"/> and fails every
/// operation from then on with <see cref="ErrorCode.SessionExpired"/>: it never silently starts a new session.
/// </para>
/// </summary>
public sealed partial class KeeperClient : IAsyncDisposable
{
    private readonly KeeperClientOptions _options;
    private readonly ConnectString _connectString;
    private readonly Chroot _chroot;
    private readonly Channel<PendingCall> _outgoing = Channel.CreateUnbounded<PendingCall>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly CancellationTokenSource _closeSignal = new();
    private readonly object _stateLock = new();
    private readonly List<AuthPacket> _credentials = [];

    private SessionState _state = SessionState.Disconnected;
    private SessionState _deliveredState = SessionState.Disconnected; // the last state StateChanged was raised for
    private TaskCompletionSource _stateChange = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sessionId;
    private byte[] _sessionPassword;
    private int _negotiatedTimeoutMs;
    private long _lastZxid;
    private int _xid;
    private volatile bool _closing;
    private Task? _closeTask;

    private KeeperClient(ConnectString connectString, KeeperClientOptions options)
    {
        _options = options;
        _connectString = connectString;
        _chroot = new Chroot(connectString.Chroot);
        Logger = options.Logger;
        Dispatcher = new EventDispatcher(Logger);
        _sessionId = options.SessionId;
        _sessionPassword = options.SessionPassword ?? new byte[16];
        _negotiatedTimeoutMs = (int)options.SessionTimeout.TotalMilliseconds;
        _hostIndex = Random.Shared.Next(connectString.Hosts.Count);
    }

    /// <summary>
    /// Connects to one of the hosts of <paramref name="connectString"/> ("h1:p1,h2:p2/optional/chroot") and opens a
    /// session (or re-attaches to <see cref="KeeperClientOptions.SessionId"/>). Fails with a TimeoutException if no
    /// host answers within <see cref="KeeperClientOptions.ConnectTimeout"/>, and with SessionExpired if the session to
    /// re-attach to is gone.
    /// </summary>
    public static async Task<KeeperClient> ConnectAsync(string connectString, KeeperClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var client = new KeeperClient(ConnectString.Parse(connectString), options ?? new KeeperClientOptions());
        try
        {
            await client.ConnectFirstAsync(cancellationToken);
            // The caller attaches its StateChanged handlers after this returns: they hear of changes after the
            // connect, not of the connect itself (which was queued to the dispatcher and could otherwise reach them late).
            await client.Dispatcher.DrainedAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>The session id (0 until connected).</summary>
    public long SessionId => Interlocked.Read(ref _sessionId);

    /// <summary>The session password; with <see cref="SessionId"/> it lets another client attach to the session.</summary>
    public byte[] SessionPassword => (byte[])_sessionPassword.Clone();

    /// <summary>The session timeout the server granted.</summary>
    public TimeSpan SessionTimeout => TimeSpan.FromMilliseconds(Volatile.Read(ref _negotiatedTimeoutMs));

    /// <summary>The largest zxid seen in a reply: the client never reconnects to a server behind it.</summary>
    public long LastZxidSeen => Interlocked.Read(ref _lastZxid);

    /// <summary>The chroot all paths are relative to, or "" for none.</summary>
    public string Chroot => _chroot.Root;

    public SessionState State
    {
        get
        {
            lock (_stateLock) return _state;
        }
    }

    /// <summary>
    /// Raised on every session state change, in order with watch events (on the client's event stream, not the
    /// thread that caused the change).
    /// </summary>
    public event EventHandler<SessionState>? StateChanged;

    /// <summary>
    /// Completes when the session reaches <paramref name="state"/> (at once if it is there now), once the
    /// <see cref="StateChanged"/> handlers have run for it, so whatever reacts to the change (a recipe dropping
    /// leadership on Disconnected) has done so. Throws if the session ends (Expired or Closed) first, since it can
    /// then never get there.
    /// </summary>
    public async Task WaitForStateAsync(SessionState state, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task change;
            lock (_stateLock)
            {
                if (_deliveredState == state) return;
                if (_deliveredState == SessionState.Closed || (_deliveredState == SessionState.Expired && state != SessionState.Closed))
                    throw Unusable(null);
                change = _stateChange.Task;
            }
            await change.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Ends the session on the server (its ephemerals are deleted at once and its watches dropped) and closes the
    /// connection. Watchers get a final None/Closed event. Safe to call more than once.
    /// </summary>
    public Task CloseAsync()
    {
        lock (_stateLock) return _closeTask ??= CloseCoreAsync();
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    internal ILogger Logger { get; }
    internal EventDispatcher Dispatcher { get; }
    internal WatchManager Watches { get; } = new();

    /// <summary>Test hook: stop sending pings and stop timing out a silent server, so the session expires.</summary>
    internal bool SuspendPings { get; set; }

    internal int NextXid()
    {
        int xid = Interlocked.Increment(ref _xid);
        if (xid > 0) return xid;
        Interlocked.Exchange(ref _xid, 1); // wrapped after 2^31 requests: xids stay positive
        return 1;
    }

    internal void ObserveZxid(long zxid)
    {
        long seen = Interlocked.Read(ref _lastZxid);
        while (zxid > seen)
        {
            long found = Interlocked.CompareExchange(ref _lastZxid, zxid, seen);
            if (found == seen) return;
            seen = found;
        }
    }

    /// <summary>Queues a request. The Task completes (through the dispatcher) with the decoded reply or fails.</summary>
    internal Task<T> SendAsync<T>(OpCode op, IJuteRecord? request, ReplyDecoder<T>? decode, string? path,
        CancellationToken cancellationToken, WatchRegistration? watch = null, bool noNodeIsDefault = false, int xid = 0)
    {
        var call = new PendingCall<T>(op, request, path, watch, decode, noNodeIsDefault) { Xid = xid };
        call.CancelWith(cancellationToken);
        if (!_outgoing.Writer.TryWrite(call)) return Task.FromException<T>(Unusable(path));
        return call.Task;
    }

    /// <summary>Why no more requests are taken: the session expired, or the client closed.</summary>
    private Exception Unusable(string? path) => _state == SessionState.Expired
        ? new KeeperException(ErrorCode.SessionExpired, path)
        : new ObjectDisposedException(nameof(KeeperClient), "the client is closed");

    /// <summary>Fails requests queued but not yet sent (Java's client does the same on a lost connection).</summary>
    private void FailQueued(Func<PendingCall, Exception> error) => Fail(TakeQueued(), error);

    private List<PendingCall> TakeQueued()
    {
        var calls = new List<PendingCall>();
        while (_outgoing.Reader.TryRead(out var call)) calls.Add(call);
        return calls;
    }

    private void Fail(List<PendingCall> calls, Func<PendingCall, Exception> error)
    {
        foreach (var call in calls)
        {
            call.SetFailure(error(call));
            Dispatcher.Post(call);
        }
    }

    private void SetState(SessionState state)
    {
        lock (_stateLock)
        {
            if (_state == state || _state == SessionState.Closed) return;
            if (_state == SessionState.Expired && state != SessionState.Closed) return;
            _state = state;
            // Posted under the lock: two threads changing the state at once cannot deliver it out of order.
            Dispatcher.Post(new StateDelivery(this, state));
        }
    }

    /// <summary>The StateChanged handlers have run for <paramref name="state"/>: now its waiters may go on.</summary>
    private void OnStateDelivered(SessionState state)
    {
        lock (_stateLock)
        {
            _deliveredState = state;
            var change = _stateChange;
            _stateChange = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            change.TrySetResult();
        }
    }

    private async Task CloseCoreAsync()
    {
        _closing = true;
        if (State is SessionState.Connected or SessionState.ConnectedReadOnly)
        {
            try
            {
                var timeout = TimeSpan.FromMilliseconds(Math.Clamp(_negotiatedTimeoutMs, 1000, 5000));
                await SendAsync<bool>(OpCode.CloseSession, null, null, null, CancellationToken.None).WaitAsync(timeout);
            }
            catch (Exception e)
            {
                Logger.LogDebug(e, "closeSession was not answered");
            }
        }
        _outgoing.Writer.TryComplete();
        _closeSignal.Cancel();
        _connection?.Abort();
        if (_supervisor is not null)
        {
            try
            {
                await _supervisor;
            }
            catch (Exception e)
            {
                Logger.LogDebug(e, "Connection supervisor ended with an error");
            }
        }
        FailQueued(call => new KeeperException(ErrorCode.ConnectionLoss, call.Path));
        EndWatches(KeeperState.Closed);
        SetState(SessionState.Closed);
        Dispatcher.Complete();
        Logger.LogInformation("Closed session 0x{SessionId:x}", SessionId);
        // Once CloseAsync returns every watcher and state handler has run (unless we are inside one of them).
        if (!EventDispatcher.IsDispatching) await Dispatcher.Completion;
    }

    /// <summary>The session is over: every watcher hears so once, and the table is emptied.</summary>
    private void EndWatches(KeeperState state)
    {
        var watchers = Watches.TakeAll();
        if (watchers.Count > 0) Dispatcher.Post(new WatchDelivery(new WatchedEvent(EventType.None, state, ""), watchers));
    }

    private sealed class StateDelivery(KeeperClient client, SessionState state) : IDispatchItem
    {
        public void Dispatch()
        {
            try
            {
                client.StateChanged?.Invoke(client, state);
            }
            finally
            {
                client.OnStateDelivered(state);
            }
        }
    }

    internal sealed class WatchDelivery(WatchedEvent e, List<Action<WatchedEvent>> watchers) : IDispatchItem
    {
        public void Dispatch()
        {
            List<Exception>? errors = null;
            foreach (var watcher in watchers)
            {
                try
                {
                    watcher(e);
                }
                catch (Exception error)
                {
                    (errors ??= []).Add(error);
                }
            }
            if (errors is not null) throw new AggregateException("watcher failed", errors);
        }
    }
}
