using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Quill.Network;

/// <summary>
/// The client side of a size-prefixed protocol over the same transport as the servers: connect, send frames, read
/// frames (cut by <see cref="FrameCutter"/> under the same kind of limit). One sender and one reader at a time.
/// </summary>
public sealed class FramedClientConnection : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<int, SocketConnectionContextFactory> s_factories = new();
    private readonly ConnectionContext _context;
    private readonly int _maxFrameBytes;
    private ReadOnlySequence<byte> _buffer;
    private bool _holding;
    private bool _ended;
    private int _aborted;
    private int _disposed;

    private FramedClientConnection(ConnectionContext context, int maxFrameBytes)
    {
        _context = context;
        _maxFrameBytes = maxFrameBytes;
    }

    public EndPoint? RemoteEndPoint => _context.RemoteEndPoint;

    public static async Task<FramedClientConnection> ConnectAsync(EndPoint endpoint, int maxFrameBytes, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        // The transport reads ahead only up to its buffer limit, so the largest frame must fit under it.
        var factory = s_factories.GetOrAdd(maxFrameBytes, max => new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions { MaxReadBufferSize = Math.Max(1L << 20, (long)max + FrameCutter.PrefixLength + 1) },
            NullLogger.Instance));
        return new FramedClientConnection(factory.Create(socket), maxFrameBytes);
    }

    /// <summary>Sends bytes holding whole frames (prefixes included), returning once the transport has taken them.</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> frames, CancellationToken cancellationToken)
    {
        var result = await _context.Transport.Output.WriteAsync(frames, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted || result.IsCanceled) throw new IOException("the connection is closed");
    }

    /// <summary>
    /// The next frame's body, valid until the next call. Throws <see cref="EndOfStreamException"/> when the peer
    /// closed the connection and <see cref="IOException"/> for a size prefix outside 0..maxFrameBytes.
    /// </summary>
    public async ValueTask<ReadOnlySequence<byte>> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var input = _context.Transport.Input;
        while (true)
        {
            if (_holding)
            {
                var rest = _buffer;
                switch (FrameCutter.TryCut(ref rest, _maxFrameBytes, out var frame, out int length))
                {
                    case FrameCut.Frame:
                        // The frame stays in the pipe's memory until the next call, which releases it.
                        _buffer = rest;
                        return frame;
                    case FrameCut.TooBig:
                        throw new IOException($"frame length {length} is outside 0..{_maxFrameBytes}");
                }
                input.AdvanceTo(rest.Start, rest.End);
                _holding = false;
                if (_ended) throw new EndOfStreamException("the server closed the connection");
            }
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled) throw new OperationCanceledException("the read was cancelled");
            _buffer = result.Buffer;
            _holding = true;
            _ended = result.IsCompleted;
        }
    }

    /// <summary>Closes at once: pending reads and sends end. Safe to call more than once, from any thread.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0) _context.Abort(new ConnectionAbortedException("closed by the client"));
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        if (Interlocked.Exchange(ref _disposed, 1) == 0) await _context.DisposeAsync().ConfigureAwait(false);
    }
}
