using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Quorum;

/// <summary>
/// Carries election notifications between servers: listens on this server's election port, and keeps one outgoing
/// connection to each other server's election port (opened when needed, dropped when it fails; the next send opens
/// it again). A connection starts with one Notification-less hello naming the sender; then every frame is a vote.
/// Incoming votes go to <see cref="Incoming"/>; <see cref="AnswerLookingPeer"/> lets the server answer a looking peer
/// while it is not looking itself. While the server looks, its last vote to each peer is owed to that peer: when the
/// connection to the peer is down (the peer was unreachable, or a partition reset it), the vote is sent again every
/// <see cref="RedeliveryInterval"/>, so a server cut off for long rejoins within a second of the network healing
/// instead of at its next resend, which the election's backoff puts up to a minute away.
/// </summary>
public sealed class ElectionTransport : IAsyncDisposable
{
    private readonly long _myId;
    private readonly ConcurrentDictionary<long, IPEndPoint> _peers;
    /// <summary>This server's election address, sent with each vote so that servers that do not list it yet (it is
    /// joining by reconfig) can answer it, as ZooKeeper's notifications carry the sender's config.</summary>
    private readonly (string Host, int Port) _advertised;
    private readonly TimeSpan _connectTimeout;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<long, QuorumConnection> _outgoing = new();
    private readonly ConcurrentDictionary<long, Task> _connecting = new();
    private readonly ConcurrentDictionary<long, byte[]> _owed = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private Socket? _listener;

    public static readonly TimeSpan RedeliveryInterval = TimeSpan.FromSeconds(1);

    public ElectionTransport(long myId, IReadOnlyDictionary<long, IPEndPoint> peers, (string Host, int Port) advertised, TimeSpan connectTimeout, ILogger log)
    {
        _myId = myId;
        _peers = new ConcurrentDictionary<long, IPEndPoint>(peers);
        _advertised = advertised;
        _connectTimeout = connectTimeout;
        _log = log;
    }

    /// <summary>Votes from other servers, in arrival order.</summary>
    public Channel<Notification> Incoming { get; } = Channel.CreateUnbounded<Notification>();

    /// <summary>Set by the election: called (on a receive thread) for each vote; may answer the sender.</summary>
    public Action<Notification>? OnReceived { get; set; }

    public void Start(IPEndPoint listenOn, int bindRetries)
    {
        for (int attempt = 0; ; attempt++)
        {
            var socket = new Socket(listenOn.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(listenOn);
                socket.Listen(64);
                _listener = socket;
                break;
            }
            catch (SocketException e) when (bindRetries == 0 || attempt + 1 < bindRetries)
            {
                socket.Dispose();
                _log.LogWarning("Cannot bind the election port {Endpoint} ({Reason}); retrying", listenOn, e.SocketErrorCode);
                Thread.Sleep(1000);
            }
        }
        _tasks.Add(Task.Run(AcceptLoopAsync));
        _tasks.Add(Task.Run(RedeliverLoopAsync));
    }

    /// <summary>Sends each owed vote again whose peer has no open connection (a connection that is open carries it).</summary>
    private async Task RedeliverLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(RedeliveryInterval, _stop.Token).ConfigureAwait(false);
                foreach (var (to, data) in _owed)
                    if (!IsConnected(to)) Deliver(to, data);
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>A reconfig named a server (or moved it): votes to it go to this address from now on.</summary>
    public void SetPeer(long id, IPEndPoint endpoint)
    {
        if (id != _myId) _peers[id] = endpoint;
    }

    /// <summary>The server stopped looking: its votes are no longer owed (peers that ask get its decision).</summary>
    public void ForgetOwedVotes() => _owed.Clear();

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException e)
            {
                _log.LogWarning("Election port accept failed: {Reason}", e.SocketErrorCode);
                continue;
            }
            _ = Task.Run(() => ReceiveLoopAsync(new QuorumConnection(socket)));
        }
    }

    private async Task ReceiveLoopAsync(QuorumConnection conn)
    {
        await using var _ = conn;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var packet = await conn.ReceiveAsync(_stop.Token).ConfigureAwait(false);
                if (packet.Type != PacketType.Notification) continue;
                var (n, from) = Decode(packet);
                if (n.Sender == _myId) return;
                if (!_peers.ContainsKey(n.Sender))
                {
                    // A server not in the membership (yet): it may be joining by reconfig; it is answered, never counted.
                    if (from is null) return;
                    if (_peers.TryAdd(n.Sender, from))
                        _log.LogInformation("Election: server {Id} at {Endpoint} is not in the membership; answering it as a possible joiner", n.Sender, from);
                }
                OnReceived?.Invoke(n);
            }
        }
        catch (Exception e) when (e is QuorumConnectionClosedException or OperationCanceledException or JuteException or InvalidDataException)
        {
        }
    }

    /// <summary>Sends a vote to one server; a server that cannot be reached now gets a looking server's vote once it can
    /// (<see cref="RedeliveryInterval"/>), or the election's next resend.</summary>
    public void Send(long to, PeerState state, Vote vote)
    {
        if (_stop.IsCancellationRequested) return;
        var w = new JuteWriter(64);
        w.WriteLong(_myId); w.WriteInt((int)state);
        w.WriteLong(vote.Leader); w.WriteLong(vote.Zxid); w.WriteLong(vote.PeerEpoch); w.WriteLong(vote.ElectionEpoch);
        w.WriteString(_advertised.Host); w.WriteInt(_advertised.Port);
        var data = w.ToArray();
        if (state == PeerState.Looking) _owed[to] = data;
        Deliver(to, data);
    }

    private void Deliver(long to, byte[] data)
    {
        if (_stop.IsCancellationRequested) return;
        if (_outgoing.TryGetValue(to, out var conn) && !conn.IsClosed)
        {
            conn.Send(PacketType.Notification, 0, data);
            return;
        }
        // Connect in the background; the vote goes out once connected. A server down stays unreached until a resend.
        // Claimed before the attempt starts, so an attempt that fails at once cannot remove its entry before it is added.
        var claim = new TaskCompletionSource();
        if (!_connecting.TryAdd(to, claim.Task)) return;
        _ = Task.Run(async () =>
        {
            try
            {
                if (!_peers.TryGetValue(to, out var endpoint)) return;
                var c = await QuorumConnection.ConnectAsync(endpoint, _connectTimeout, _stop.Token).ConfigureAwait(false);
                if (_outgoing.TryGetValue(to, out var old)) await old.DisposeAsync().ConfigureAwait(false);
                _outgoing[to] = c;
                c.Send(PacketType.Notification, 0, data);
                _ = DrainAsync(c);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
            {
            }
            finally
            {
                _connecting.TryRemove(new KeyValuePair<long, Task>(to, claim.Task));
                claim.TrySetResult();
            }
        });
    }

    /// <summary>Nothing is sent back on an outgoing connection; reading it only notices when the peer goes away.</summary>
    private async Task DrainAsync(QuorumConnection conn)
    {
        try
        {
            while (true) await conn.ReceiveAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            conn.Close();
        }
    }

    public bool IsConnected(long to) => _outgoing.TryGetValue(to, out var c) && !c.IsClosed;

    private static (Notification, IPEndPoint?) Decode(QuorumPacket packet)
    {
        var r = new JuteReader(packet.Data);
        long sender = r.ReadLong();
        var state = (PeerState)r.ReadInt();
        var vote = new Vote(r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong());
        IPEndPoint? from = null;
        if (r.Remaining > 0)
        {
            var host = r.ReadString();
            int port = r.ReadInt();
            if (host is not null && port is > 0 and <= 65535)
            {
                try { from = new IPEndPoint(Quill.Network.NetworkListener.ResolveHost(host), port); }
                catch (SocketException) { }
            }
        }
        return (new Notification(sender, state, vote), from);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Dispose();
        foreach (var c in _outgoing.Values) await c.DisposeAsync().ConfigureAwait(false);
        try { await Task.WhenAll(_tasks).ConfigureAwait(false); } catch (Exception) { }
    }
}
