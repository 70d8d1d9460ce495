using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Quill.Keeper.Quorum;

/// <summary>
/// A TCP connection between two servers of an ensemble, carrying <see cref="QuorumPacket"/>s as frames:
/// [int length][int type][long zxid][data]. Sending only queues (any thread, never blocks the caller: the leader's
/// owner thread sends proposals); one writer task drains the queue and writes what has gathered in one call.
/// One reader at a time calls <see cref="ReceiveAsync"/>.
/// </summary>
public sealed class QuorumConnection : IAsyncDisposable
{
    /// <summary>A snapshot in a SNAP packet can be large; anything bigger than this is a broken peer.</summary>
    public const int MaxFrameBytes = 1 << 30;
    private const int HeaderBytes = 16;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly CancellationTokenSource _closed = new();
    private readonly byte[] _header = new byte[HeaderBytes];
    private int _queuedBytes;

    public QuorumConnection(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        RemoteAddress = socket.RemoteEndPoint?.ToString() ?? "?";
        _writer = Task.Run(WriteLoopAsync);
    }

    public string RemoteAddress { get; }
    public bool IsClosed => _closed.IsCancellationRequested;
    /// <summary>Bytes queued and not yet written (a slow learner shows here).</summary>
    public int QueuedBytes => Volatile.Read(ref _queuedBytes);
    /// <summary>
    /// The send queue's bound (0: none): a packet sent while more than this is queued and unwritten closes the
    /// connection instead (a peer too slow to take what it is sent is dropped, and syncs again when it connects). A
    /// single packet larger than the bound (a snapshot) goes out when the queue is below it.
    /// </summary>
    public long QueueLimitBytes { get; set; }
    /// <summary>Why <see cref="Close"/> was called by this side, when it was (for the log).</summary>
    public string? CloseReason { get; private set; }
    /// <summary>When the last packet arrived (Environment.TickCount64), for liveness checks.</summary>
    public long LastReceivedTicks { get; private set; } = Environment.TickCount64;

    public static async Task<QuorumConnection> ConnectAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken ct)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            await socket.ConnectAsync(endpoint, cts.Token).ConfigureAwait(false);
            return new QuorumConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Send(PacketType type, long zxid, ReadOnlySpan<byte> data = default)
    {
        if (QueueLimitBytes > 0 && Volatile.Read(ref _queuedBytes) > QueueLimitBytes && !IsClosed)
        {
            Close($"its send queue holds more than {QueueLimitBytes} bytes");
            return;
        }
        var frame = new byte[HeaderBytes + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, 12 + data.Length);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), (int)type);
        BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(8), zxid);
        data.CopyTo(frame.AsSpan(HeaderBytes));
        Interlocked.Add(ref _queuedBytes, frame.Length);
        if (!_outgoing.Writer.TryWrite(frame)) Interlocked.Add(ref _queuedBytes, -frame.Length);
    }

    public async ValueTask<QuorumPacket> ReceiveAsync(CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _closed.Token);
        try
        {
            await _stream.ReadExactlyAsync(_header, linked.Token).ConfigureAwait(false);
            int length = BinaryPrimitives.ReadInt32BigEndian(_header);
            if (length < 12 || length > MaxFrameBytes) throw new InvalidDataException($"quorum frame of {length} bytes from {RemoteAddress}");
            var type = (PacketType)BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(4));
            long zxid = BinaryPrimitives.ReadInt64BigEndian(_header.AsSpan(8));
            var data = new byte[length - 12];
            await _stream.ReadExactlyAsync(data, linked.Token).ConfigureAwait(false);
            LastReceivedTicks = Environment.TickCount64;
            return new QuorumPacket(type, zxid, data);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or EndOfStreamException
                                      || (e is OperationCanceledException && _closed.IsCancellationRequested && !ct.IsCancellationRequested))
        {
            Close();
            throw new QuorumConnectionClosedException($"connection to {RemoteAddress} closed", e);
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        var batch = new MemoryStream();
        try
        {
            while (await reader.WaitToReadAsync(_closed.Token).ConfigureAwait(false))
            {
                batch.SetLength(0);
                while (batch.Length < 1 << 20 && reader.TryRead(out var frame))
                {
                    batch.Write(frame);
                    Interlocked.Add(ref _queuedBytes, -frame.Length);
                }
                await _stream.WriteAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length), _closed.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            Close();
        }
    }

    /// <summary>Closes at once; what is queued and unsent is dropped (the other side treats that as a lost peer).</summary>
    public void Close(string? reason = null)
    {
        if (_closed.IsCancellationRequested) return;
        CloseReason ??= reason;
        try { _closed.Cancel(); } catch (ObjectDisposedException) { }
        _outgoing.Writer.TryComplete();
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception) { }
        _stream.Dispose();
    }

    /// <summary>Lets queued packets go out (up to <paramref name="grace"/>), then closes.</summary>
    public async Task FlushAndCloseAsync(TimeSpan grace)
    {
        _outgoing.Writer.TryComplete();
        try { await _writer.WaitAsync(grace).ConfigureAwait(false); } catch (TimeoutException) { }
        Close();
    }

    public async ValueTask DisposeAsync()
    {
        Close();
        try { await _writer.ConfigureAwait(false); } catch (Exception) { }
    }
}

public sealed class QuorumConnectionClosedException(string message, Exception? inner = null) : IOException(message, inner);
