using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Network;

namespace Quill.Keeper.Client.Connection;

/// <summary>
/// One connection to one server (a <see cref="FramedClientConnection"/>): the session handshake, then a send loop (requests in batches, pings when
/// idle) and a receive loop (replies matched to requests in order, notifications to the watch table). It lives
/// until the first I/O error or timeout; the client then fails what was in flight and opens the next one.
/// </summary>
internal sealed class KeeperConnection : IAsyncDisposable
{
    /// <summary>Largest frame accepted; the server's own limit (jute.maxbuffer) is 1 MiB by default.</summary>
    private const int MaxFrameLength = 16 * 1024 * 1024;
    private const int MaxBatchBytes = 64 * 1024;

    private readonly KeeperClient _client;
    private readonly FramedClientConnection _connection;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly PendingQueue _pending = new();
    private readonly PendingQueue _auths = new();
    private readonly CancellationTokenSource _stop = new();
    private byte[] _frameCopy = [];
    private long _lastSendMs;
    private long _lastReceiveMs;

    private KeeperConnection(KeeperClient client, HostAddress host, FramedClientConnection connection, ConnectResponse response)
    {
        _client = client;
        Host = host;
        _connection = connection;
        _time = client.Time;
        _origin = _time.GetTimestamp();
        Response = response;
    }

    /// <summary>Milliseconds on the client's clock since this connection was made.</summary>
    private long NowMs => (long)_time.GetElapsedTime(_origin).TotalMilliseconds;

    public HostAddress Host { get; }
    public ConnectResponse Response { get; private set; }

    /// <summary>Connects and performs the handshake. A response with Timeout &lt;= 0 means the session has expired.</summary>
    public static async Task<KeeperConnection> OpenAsync(KeeperClient client, HostAddress host, ConnectRequest request,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, client.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        KeeperConnection? connection = null;
        try
        {
            var transport = await FramedClientConnection.ConnectAsync(host.ToEndPoint(), MaxFrameLength, deadline.Token);
            connection = new KeeperConnection(client, host, transport, null!);
            var writer = new JuteWriter(128);
            writer.BeginFrame();
            request.Write(writer);
            writer.EndFrame();
            await transport.SendAsync(writer.WrittenMemory, deadline.Token);
            var frame = await transport.ReadFrameAsync(deadline.Token);
            connection.Response = ReadConnectResponse(connection.Contiguous(frame));
            connection._lastReceiveMs = connection.NowMs;
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            if (connection is not null) await connection._connection.DisposeAsync();
            throw new TimeoutException($"no session handshake with {host} within {timeout.TotalMilliseconds:0} ms");
        }
        catch
        {
            if (connection is not null) await connection._connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A frame as one span: most are in one piece of the pipe's memory; the rare split one is copied.</summary>
    private ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> frame)
    {
        if (frame.IsSingleSegment) return frame.FirstSpan;
        if (_frameCopy.Length < frame.Length) _frameCopy = new byte[Math.Max(frame.Length, _frameCopy.Length * 2)];
        frame.CopyTo(_frameCopy);
        return _frameCopy.AsSpan(0, (int)frame.Length);
    }

    private static ConnectResponse ReadConnectResponse(ReadOnlySpan<byte> frame)
    {
        var reader = new JuteReader(frame);
        return ConnectResponse.Read(ref reader);
    }

    /// <summary>
    /// Writes what a new connection must carry before any queued request: the watch table (setWatches, xid -8) and
    /// every credential added so far (auth, xid -4), since the server keeps both per connection.
    /// </summary>
    public async Task PrimeAsync(IReadOnlyList<SetWatchesRequest> watches, IReadOnlyList<AuthPacket> auths, CancellationToken cancellationToken)
    {
        if (watches.Count == 0 && auths.Count == 0) return;
        var writer = new JuteWriter(1024);
        foreach (var request in watches)
        {
            var call = new PendingCall<bool>(request.IsVersion2 ? OpCode.SetWatches2 : OpCode.SetWatches, request, null, null, null)
            {
                Xid = Xids.SetWatches,
            };
            ObserveFailure(call.Task, "re-registering watches");
            _pending.TryAdd(call);
            WriteRequest(writer, call);
        }
        foreach (var auth in auths)
        {
            var call = new PendingCall<bool>(OpCode.Auth, auth, null, null, null) { Xid = Xids.Auth };
            ObserveFailure(call.Task, $"re-sending {auth.Scheme} credentials");
            _auths.TryAdd(call);
            WriteRequest(writer, call);
        }
        await _connection.SendAsync(writer.WrittenMemory, cancellationToken);
        _lastSendMs = NowMs;
    }

    private void ObserveFailure(Task task, string what) =>
        task.ContinueWith(t => _client.Logger.LogWarning(t.Exception!.InnerException, "Failed {What} on {Host}", what, Host),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>
    /// Runs both loops until one fails or <see cref="Abort"/> is called. Returns why the connection ended; the calls
    /// still unanswered are failed (ConnectionLoss) by <see cref="DisposeAsync"/>, so the client can first say it is
    /// Disconnected.
    /// </summary>
    public async Task<Exception> RunAsync(ChannelReader<PendingCall> outgoing, TimeSpan pingInterval, TimeSpan readTimeout)
    {
        var token = _stop.Token;
        var send = SendLoopAsync(outgoing, pingInterval, readTimeout, token);
        var receive = ReceiveLoopAsync(token);
        var first = await Task.WhenAny(send, receive);
        Exception reason = first.Exception?.InnerException
            ?? (token.IsCancellationRequested ? new OperationCanceledException("connection closed by the client")
                : new IOException("connection ended"));
        Abort();
        try
        {
            await Task.WhenAll(send, receive);
        }
        catch
        {
            // Both loops end with the socket; their errors are the reason already taken, or follow from it.
        }
        return reason;
    }

    /// <summary>Closes the socket; both loops end.</summary>
    public void Abort()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed already.
        }
        _connection.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        await _connection.DisposeAsync();
        FailUnanswered();
        _stop.Dispose();
    }

    private void FailUnanswered()
    {
        foreach (var call in _pending.Close().Concat(_auths.Close()))
        {
            call.SetFailure(new KeeperException(ErrorCode.ConnectionLoss, call.Path));
            _client.Dispatcher.Post(call);
        }
    }

    private async Task SendLoopAsync(ChannelReader<PendingCall> outgoing, TimeSpan pingInterval, TimeSpan readTimeout, CancellationToken token)
    {
        var writer = new JuteWriter(4096);
        long pingMs = (long)pingInterval.TotalMilliseconds, readTimeoutMs = (long)readTimeout.TotalMilliseconds;
        Task<bool>? waiting = null;
        while (true)
        {
            long now = NowMs;
            if (!_client.SuspendPings && now - Volatile.Read(ref _lastReceiveMs) > readTimeoutMs)
                throw new TimeoutException($"nothing heard from {Host} for {readTimeoutMs} ms");

            waiting ??= outgoing.WaitToReadAsync(token).AsTask();
            if (!waiting.IsCompleted)
            {
                // Wake for the next ping or for the read deadline, whichever comes first: a silent server is given
                // up two thirds into the session timeout, not a ping interval later.
                long idleLeft = pingMs - (now - _lastSendMs);
                long readLeft = readTimeoutMs - (now - Volatile.Read(ref _lastReceiveMs)) + 1;
                long sleep = _client.SuspendPings ? idleLeft : Math.Min(idleLeft, readLeft);
                if (sleep > 0) await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(sleep), _time, token));
                token.ThrowIfCancellationRequested();
                if (!waiting.IsCompleted)
                {
                    if (NowMs - _lastSendMs >= pingMs)
                    {
                        if (!_client.SuspendPings) await WritePingAsync(writer, token);
                        _lastSendMs = NowMs;
                    }
                    continue;
                }
            }
            if (!await waiting) return; // the client is closing: nothing more will be queued
            waiting = null;

            writer.Clear();
            while (writer.Length < MaxBatchBytes && outgoing.TryRead(out var call))
            {
                if (call.IsAbandoned) continue;
                bool queued = call.Xid == Xids.Auth ? _auths.TryAdd(call) : AssignXidAndQueue(call);
                if (!queued)
                {
                    call.SetFailure(new KeeperException(ErrorCode.ConnectionLoss, call.Path));
                    _client.Dispatcher.Post(call);
                    continue;
                }
                WriteRequest(writer, call);
            }
            if (writer.Length == 0) continue;
            await _connection.SendAsync(writer.WrittenMemory, token);
            _lastSendMs = NowMs;
        }
    }

    private bool AssignXidAndQueue(PendingCall call)
    {
        if (call.Xid == 0) call.Xid = _client.NextXid();
        return _pending.TryAdd(call);
    }

    private static void WriteRequest(JuteWriter writer, PendingCall call)
    {
        writer.BeginFrame();
        new RequestHeader(call.Xid, call.Op).Write(writer);
        call.Request?.Write(writer);
        writer.EndFrame();
    }

    private async Task WritePingAsync(JuteWriter writer, CancellationToken token)
    {
        writer.Clear();
        writer.BeginFrame();
        new RequestHeader(Xids.Ping, OpCode.Ping).Write(writer);
        writer.EndFrame();
        await _connection.SendAsync(writer.WrittenMemory, token);
    }

    private async Task ReceiveLoopAsync(CancellationToken token)
    {
        while (true)
        {
            var frame = await _connection.ReadFrameAsync(token);
            Volatile.Write(ref _lastReceiveMs, NowMs);
            HandleFrame(Contiguous(frame));
        }
    }

    private void HandleFrame(ReadOnlySpan<byte> frame)
    {
        var reader = new JuteReader(frame);
        var header = ReplyHeader.Read(ref reader);
        if (header.Zxid > 0) _client.ObserveZxid(header.Zxid);

        switch (header.Xid)
        {
            case Xids.Ping:
                return;
            case Xids.Notification:
                _client.OnNotification(WatcherEvent.Read(ref reader));
                return;
            case Xids.Auth:
                // The server answers auth at once, ahead of requests still in its pipeline: its own queue.
                var auth = _auths.TryDequeue();
                if (header.Err == ErrorCode.AuthFailed) _client.OnAuthFailed(auth?.Request as AuthPacket);
                if (auth is null) return;
                auth.SetReply(header.Err, ref reader);
                _client.Dispatcher.Post(auth);
                return;
        }

        var call = _pending.TryDequeue()
            ?? throw new IOException($"reply with xid {header.Xid} but no request is outstanding");
        if (call.Xid != header.Xid)
        {
            call.SetFailure(new KeeperException(ErrorCode.ConnectionLoss, call.Path));
            _client.Dispatcher.Post(call);
            throw new IOException($"reply with xid {header.Xid} out of order: expected xid {call.Xid} ({call.Op})");
        }
        call.SetReply(header.Err, ref reader);
        if (call.Watch is { } watch) _client.Watches.Register(watch, header.Err);
        _client.Dispatcher.Post(call);
    }
}
