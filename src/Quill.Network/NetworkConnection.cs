using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Quill.Network;

/// <summary>
/// One accepted connection as a protocol handler sees it: an id, the peer's address, and the byte streams as pipes
/// (reading and writing with backpressure). A later TLS or SASL layer wraps <see cref="Input"/> and
/// <see cref="Output"/> here, below every protocol.
/// </summary>
public sealed class NetworkConnection
{
    private static long s_nextId;
    private readonly ConnectionContext _context;
    private readonly CancellationTokenSource _stopping = new();

    internal NetworkConnection(ConnectionContext context)
    {
        _context = context;
        Id = Interlocked.Increment(ref s_nextId);
        var remote = context.RemoteEndPoint as IPEndPoint;
        RemoteIp = remote?.Address.ToString() ?? "";
        RemoteAddress = remote?.ToString() ?? context.RemoteEndPoint?.ToString() ?? "?";
    }

    /// <summary>Unique in the process, across listeners.</summary>
    public long Id { get; }
    public string RemoteAddress { get; }
    public string RemoteIp { get; }
    public PipeReader Input => _context.Transport.Input;
    public PipeWriter Output => _context.Transport.Output;

    /// <summary>Cancelled once the transport has closed (the peer went, or <see cref="Abort"/>).</summary>
    public CancellationToken Closed => _context.ConnectionClosed;

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

    /// <summary>Closes the socket now, dropping whatever is unsent: pending reads and flushes end.</summary>
    public void Abort() => _context.Abort(new ConnectionAbortedException("closed by the server"));
}
