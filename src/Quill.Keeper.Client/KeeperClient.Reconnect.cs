using Microsoft.Extensions.Logging;
using Quill.Keeper.Client.Connection;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

// Connecting, keeping the session across connection losses, and noticing when it has expired.
public sealed partial class KeeperClient
{
    private int _hostIndex;
    private KeeperConnection? _connection;
    private Task? _supervisor;

    private int HostCount => _connectString.Hosts.Count;

    /// <summary>The clock of pings, read timeouts and connect deadlines.</summary>
    internal TimeProvider Time => _options.TimeProvider;

    /// <summary>Hosts are tried round-robin from a random start, so clients spread over an ensemble.</summary>
    private HostAddress NextHost()
    {
        var host = _connectString.Hosts[_hostIndex % HostCount];
        _hostIndex = (_hostIndex + 1) % HostCount;
        return host;
    }

    /// <summary>Test hook: drop the current connection as a network failure would.</summary>
    internal void DropConnection() => _connection?.Abort();

    private async Task ConnectFirstAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closeSignal.Token, timeout.Token);
        var attemptTimeout = TimeSpan.FromTicks(Math.Max(_options.ConnectTimeout.Ticks / HostCount, TimeSpan.FromSeconds(1).Ticks));
        Exception? last = null;
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                var host = NextHost();
                try
                {
                    var connection = await OpenSessionAsync(host, attemptTimeout, deadline.Token)
                        ?? throw new KeeperException(ErrorCode.SessionExpired);
                    _supervisor = Task.Run(() => SuperviseAsync(connection));
                    return;
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException)
                {
                    last = e;
                    Logger.LogDebug(e, "Could not connect to {Host}", host);
                }
                if (attempt % HostCount == 0) await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(50, 250)), Time, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"could not connect to {string.Join(',', _connectString.Hosts)} within {_options.ConnectTimeout}: {last?.Message}", last);
        }
    }

    /// <summary>
    /// Performs the handshake on one host. Returns null when the server says the session has expired; on success
    /// re-sends the watch table and credentials, and the client is Connected.
    /// </summary>
    private async Task<KeeperConnection?> OpenSessionAsync(HostAddress host, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var request = new ConnectRequest(
            ProtocolVersion: 0, LastZxidSeen, (int)_options.SessionTimeout.TotalMilliseconds, SessionId, _sessionPassword,
            _options.CanBeReadOnly, HasReadOnlyFlag: true);
        var connection = await KeeperConnection.OpenAsync(this, host, request, timeout, cancellationToken);
        var response = connection.Response;
        if (response.Timeout <= 0)
        {
            await connection.DisposeAsync();
            return null;
        }

        try
        {
            bool isNew = SessionId == 0;
            Interlocked.Exchange(ref _sessionId, response.SessionId);
            _sessionPassword = response.Password;
            Volatile.Write(ref _negotiatedTimeoutMs, response.Timeout);
            List<AuthPacket> credentials;
            lock (_credentials) credentials = [.. _credentials];
            await connection.PrimeAsync(Watches.BuildSetWatches(LastZxidSeen, _chroot), credentials, cancellationToken);
            _connection = connection;
            Logger.LogInformation("{Verb} session 0x{SessionId:x} on {Host}, timeout {Timeout} ms",
                isNew ? "Opened" : "Resumed", response.SessionId, host, response.Timeout);
            SetState(response.ReadOnly ? SessionState.ConnectedReadOnly : SessionState.Connected);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Owns the connection for the life of the session: runs it, and when it ends fails what was queued, reports
    /// Disconnected, and reconnects — until the client closes or the server says the session expired.
    /// </summary>
    private async Task SuperviseAsync(KeeperConnection connection)
    {
        while (true)
        {
            int timeoutMs = Volatile.Read(ref _negotiatedTimeoutMs);
            // Java's rhythm: ping after a third of the timeout idle; give up on a server silent for two thirds.
            var reason = await connection.RunAsync(_outgoing.Reader,
                TimeSpan.FromMilliseconds(timeoutMs / 3.0), TimeSpan.FromMilliseconds(timeoutMs * 2 / 3.0));
            _connection = null;
            if (_closing)
            {
                await connection.DisposeAsync();
                return;
            }

            Logger.LogInformation("Lost connection to {Host} ({Reason}); reconnecting session 0x{SessionId:x}",
                connection.Host, reason.Message, SessionId);
            // In this order: take what is queued, say Disconnected, and only then fail the calls (queued and in
            // flight). A caller who hears ConnectionLoss thus finds the client Disconnected, and what it sends next
            // (WaitForStateAsync(Connected), a retry) waits for the reconnect instead of being failed by this loss.
            var queued = TakeQueued();
            SetState(SessionState.Disconnected);
            Fail(queued, call => new KeeperException(ErrorCode.ConnectionLoss, call.Path));
            await connection.DisposeAsync();

            var next = await ReconnectAsync();
            if (next is null) return;
            connection = next;
        }
    }

    private async Task<KeeperConnection?> ReconnectAsync()
    {
        for (int attempt = 1; !_closing; attempt++)
        {
            var host = NextHost();
            var timeout = TimeSpan.FromMilliseconds(Math.Max(Volatile.Read(ref _negotiatedTimeoutMs) / HostCount, 1000));
            try
            {
                var connection = await OpenSessionAsync(host, timeout, _closeSignal.Token);
                if (connection is not null) return connection;
                Expire();
                return null;
            }
            catch (OperationCanceledException) when (_closeSignal.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e)
            {
                Logger.LogDebug(e, "Reconnect to {Host} failed", host);
            }

            // After each round of hosts, back off a little (randomly, so a crowd of clients does not return at once).
            if (attempt % HostCount == 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(100, 1000)), Time, _closeSignal.Token);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }
        }
        return null;
    }

    /// <summary>The server no longer knows the session: tell the caller, fail everything, take nothing more.</summary>
    private void Expire()
    {
        Logger.LogWarning("Session 0x{SessionId:x} has expired", SessionId);
        SetState(SessionState.Expired);
        _outgoing.Writer.TryComplete();
        FailQueued(call => new KeeperException(ErrorCode.SessionExpired, call.Path));
        EndWatches(KeeperState.Expired);
    }

    /// <summary>
    /// The server rejected credentials and will close the connection: they are not sent again, the caller hears
    /// AuthFailed, and the client reconnects without them.
    /// </summary>
    internal void OnAuthFailed(AuthPacket? credentials)
    {
        if (credentials is not null)
        {
            lock (_credentials) _credentials.Remove(credentials);
        }
        SetState(SessionState.AuthFailed);
    }

    /// <summary>A notification (xid -1): find the watchers it reaches and queue their callbacks.</summary>
    internal void OnNotification(WatcherEvent notification)
    {
        string path = _chroot.ToClient(notification.Path);
        var watchers = Watches.Materialize(notification.Type, path);
        if (watchers.Count == 0) return;
        Dispatcher.Post(new WatchDelivery(new WatchedEvent(notification.Type, notification.State, path), watchers));
    }
}
