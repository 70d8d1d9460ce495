using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Quill.Network;

/// <summary>
/// One accepted connection as a protocol handler sees it: an id, the peer's address, and the byte streams as pipes
/// (reading and writing with backpressure). A later TLS or SASL layer wraps <see cref="Input"/> and
/// <see cref="Output"/> here, below every protocol.
/// </summary>
/// <remarks>
/// The pipes sit straight on the socket and run in the handler's own loops: <see cref="Input"/> reads from the
/// socket only when the handler asks for more, so a handler that stops reading (its answers are backed up) leaves
/// the bytes in the kernel and TCP holds the sender back; a write to <see cref="Output"/> goes to the socket at once
/// and completes when the kernel has taken it. No transport thread in between: each hop costs latency.
/// </remarks>
public sealed class NetworkConnection
{
    /// <summary>The reader's buffer, and the least it asks the socket for at a time.</summary>
    private const int ReadBufferBytes = 64 * 1024;
    private const int MinimumReadBytes = 16 * 1024;

    private static long s_nextId;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _closed = new();
    private int _aborted;

    internal NetworkConnection(Socket socket)
    {
        _socket = socket;
        Id = Interlocked.Increment(ref s_nextId);
        var remote = socket.RemoteEndPoint as IPEndPoint;
        RemoteIp = remote?.Address.ToString() ?? "";
        RemoteAddress = remote?.ToString() ?? socket.RemoteEndPoint?.ToString() ?? "?";
        var stream = new NetworkStream(socket, ownsSocket: false);
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadBufferBytes, minimumReadSize: MinimumReadBytes, leaveOpen: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    /// <summary>Unique in the process, across listeners.</summary>
    public long Id { get; }
    public string RemoteAddress { get; }
    public string RemoteIp { get; }
    public PipeReader Input { get; }
    public PipeWriter Output { get; }

    /// <summary>Cancelled once the connection is closed (<see cref="Abort"/>, or the listener closed it).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Cancelled when the server is stopping: read no more requests, finish the answers under way.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Asks the handler to stop reading: a pending read returns cancelled, and <see cref="Stopping"/> fires.</summary>
    public void StopReading()
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The connection is over already.
        }
        Input.CancelPendingRead();
    }

    /// <summary>Closes the socket now, dropping whatever is unsent: pending reads and writes end with an error.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0) return;
        _socket.Dispose();
        _closed.Cancel();
    }

    /// <summary>After the handler: sends what the writer still holds, then closes the socket.</summary>
    internal async Task CloseAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Output.CompleteAsync().ConfigureAwait(false);
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The peer is gone, or the connection was aborted: nothing more to send.
        }
        Abort();
    }
}
