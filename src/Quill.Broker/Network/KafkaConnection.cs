using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Quill.Broker.Handlers;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Network;

namespace Quill.Broker.Network;

/// <summary>
/// One client connection. The read loop cuts the stream into size-prefixed frames (<see cref="FrameCutter"/>), decodes
/// each request and calls its handler, in order; a writer loop awaits the handlers' answers in the same order and
/// writes them into the connection's output pipe, several per write when they are ready together. Bad input is handled
/// as Kafka does: a frame over socket.request.max.bytes (or with a negative size), an undecodable request, an unknown API or an unsupported version close the connection with a
/// log line, except that an ApiVersions request of an unsupported version gets UNSUPPORTED_VERSION and the supported
/// ranges (in the v0 format every client can read).
/// </summary>
public sealed class KafkaConnection
{
    private const int MaxQueuedResponses = 64;
    /// <summary>How much of a file region one read puts into the pipe (a buffer of its own, past the pool's 4 KiB blocks).</summary>
    private const int SpliceReadBytes = 64 * 1024;
    /// <summary>Flush inside a large region this often, so the pipe's limit holds back a slow reader as it goes.</summary>
    private const int FlushEveryBytes = 256 * 1024;
    private readonly NetworkConnection _connection;
    private readonly RequestDispatcher _dispatcher;
    private readonly int _maxRequestBytes;
    private readonly ILogger _log;
    private readonly Channel<Pending> _pending = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(MaxQueuedResponses) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _closed = new();

    /// <summary>A request whose answer is on its way: the handler's task plus what encoding it needs.</summary>
    private sealed record Pending(Api Api, short Version, int CorrelationId, ValueTask<IApiResponse> Body, RequestContext? Context, byte[]? Frame);

    private readonly string _listenerName;

    public KafkaConnection(NetworkConnection connection, RequestDispatcher dispatcher, int maxRequestBytes, ILogger log,
        string listenerName = Config.ListenerConfig.Plaintext)
    {
        _listenerName = listenerName;
        _connection = connection;
        _dispatcher = dispatcher;
        _maxRequestBytes = maxRequestBytes;
        _log = log;
    }

    public long Id => _connection.Id;
    public string RemoteAddress => _connection.RemoteAddress;

    /// <summary>Serves the connection until the client stops sending, bad input, or the server stops it.</summary>
    public async Task RunAsync()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_connection.Stopping, _closed.Token);
        // Handlers also stop waiting once nothing more will be read: a long-poll fetch (or a join) of a client that has
        // gone or finished sending answers with what it has, instead of holding the connection for its MaxWaitMs.
        using var inputEnded = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var writer = Task.Run(WriteLoopAsync, CancellationToken.None);
        var reader = _connection.Input;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await reader.ReadAsync(stop.Token).ConfigureAwait(false);
                if (result.IsCanceled) break;
                var buffer = result.Buffer;
                bool keepGoing = true;
                while (keepGoing && TryReadFrame(ref buffer, out var frame, out int length, out keepGoing))
                    keepGoing = await OnFrameAsync(frame!, length, inputEnded.Token).ConfigureAwait(false);
                if (keepGoing && FrameAssembler.MustAssemble(buffer, _maxRequestBytes, out int large))
                {
                    // Longer than the transport reads ahead: copied into the request's array as it arrives.
                    var frame = ArrayPool<byte>.Shared.Rent(large);
                    if (!await FrameAssembler.ReadAsync(reader, buffer, frame.AsMemory(0, large), stop.Token).ConfigureAwait(false))
                    {
                        ArrayPool<byte>.Shared.Return(frame);
                        break;
                    }
                    if (!await OnFrameAsync(frame, large, inputEnded.Token).ConfigureAwait(false)) break;
                    continue;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (!keepGoing || result.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or the broker is stopping.
        }
        finally
        {
            inputEnded.Cancel();
            _pending.Writer.TryComplete();
            await writer.ConfigureAwait(false);
            _closed.Cancel();
        }
    }

    /// <summary>Cuts one frame off the buffer into a pooled array; false when more bytes are needed or the size is refused.</summary>
    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte[]? frame, out int length, out bool keepGoing)
    {
        frame = null;
        keepGoing = true;
        switch (FrameCutter.TryCut(ref buffer, _maxRequestBytes, out var body, out length))
        {
            case FrameCut.TooBig:
                _log.LogWarning("Closing connection {Id} from {Client}: request size {Size} is outside 0..{Max} (socket.request.max.bytes)",
                    Id, RemoteAddress, length, _maxRequestBytes);
                keepGoing = false;
                return false;
            case FrameCut.NeedMore:
                return false;
        }
        // Handlers run after the pipe has moved on: the request gets its own (pooled) copy.
        frame = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        body.CopyTo(frame);
        return true;
    }

    /// <summary>Decodes a request and starts its handler; false to close the connection.</summary>
    private async ValueTask<bool> OnFrameAsync(byte[] frame, int length, CancellationToken ct)
    {
        var bytes = frame.AsMemory(0, length);
        if (!RequestHeader.TryPeek(bytes.Span, out short apiKey, out short version, out int correlationId))
            return Refuse(frame, $"a request of {length} bytes is too short for a request header");

        var handler = _dispatcher.Find(apiKey);
        KafkaApis.TryGet(apiKey, out var api);
        if (handler is null || api is null)
            return Refuse(frame, $"unknown or unsupported API key {apiKey} (v{version}, correlation id {correlationId})");
        if (!api.Supports(version))
        {
            if (api.Key != ApiKey.ApiVersions)
                return Refuse(frame, $"{api.Key} v{version} is not supported (v{api.MinVersion}-{api.MaxVersion}; correlation id {correlationId})");
            ArrayPool<byte>.Shared.Return(frame);
            var refusal = ApiVersionsHandler.UnsupportedVersionResponse(_dispatcher.Supported);
            await _pending.Writer.WriteAsync(new Pending(api, 0, correlationId, ValueTask.FromResult<IApiResponse>(refusal), null, null), CancellationToken.None).ConfigureAwait(false);
            return true;
        }

        RequestContext context;
        try
        {
            var request = MessageFrames.ReadRequest(bytes);
            context = new RequestContext(request.Header, request.Body, RemoteAddress, Id) { ListenerName = _listenerName };
        }
        catch (KafkaProtocolException e)
        {
            return Refuse(frame, $"malformed {api.Key} v{version} request (correlation id {correlationId}): {e.Message}");
        }

        ValueTask<IApiResponse> body;
        try
        {
            body = handler.HandleAsync(context, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            body = ValueTask.FromException<IApiResponse>(e);
        }
        // Not cancellable: the handler has started (a produce may be appended already), so its answer and buffers must
        // reach the writer loop, which drains the queue until the reader completes it.
        await _pending.Writer.WriteAsync(new Pending(api, version, correlationId, body, context, frame), CancellationToken.None).ConfigureAwait(false);
        return !context.CloseConnection;
    }

    private bool Refuse(byte[] frame, string why)
    {
        ArrayPool<byte>.Shared.Return(frame);
        _log.LogWarning("Closing connection {Id} from {Client}: {Reason}", Id, RemoteAddress, LogSafe.Text(why));
        return false;
    }

    private async Task WriteLoopAsync()
    {
        // Fetched records are spliced, not copied into this buffer: SendAsync reads them into the pipe.
        var output = new KafkaWriter(64 * 1024) { SpliceExternalBytes = true };
        var encoded = new List<Pending>();
        bool open = true;
        try
        {
            await foreach (var first in _pending.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var next = first;
                while (true)
                {
                    if (open) open = await EncodeAsync(next, output).ConfigureAwait(false);
                    else await DiscardAsync(next).ConfigureAwait(false);
                    encoded.Add(next);
                    // Gather whatever else is already answered into the same write.
                    if (output.Length + output.SplicedLength >= 256 * 1024 || !_pending.Reader.TryPeek(out var peeked) || !peeked.Body.IsCompleted) break;
                    _pending.Reader.TryRead(out next!);
                }
                if (output.Length > 0 && open) open = await SendAsync(output).ConfigureAwait(false);
                output.Reset();
                // Only now: the answers' file regions were read while being sent.
                foreach (var done in encoded) Release(done);
                encoded.Clear();
                if (!open)
                {
                    _closed.Cancel();
                    _connection.Input.CancelPendingRead();
                }
            }
        }
        finally
        {
            output.Dispose();
            foreach (var done in encoded) Release(done);
            while (_pending.Reader.TryRead(out var left))
            {
                await DiscardAsync(left).ConfigureAwait(false);
                Release(left);
            }
        }
    }

    /// <summary>
    /// Writes the encoded answers into the transport's pipe, reading each spliced file region from its segment straight
    /// into the pipe's memory (one copy, kernel to pipe: Kafka's sendfile, short of the socket, which the transport
    /// owns). A write completes once the pipe is below its limit, so a client that reads slowly holds the encoding of
    /// further answers here. False when the connection must close.
    /// </summary>
    private async ValueTask<bool> SendAsync(KafkaWriter output)
    {
        var pipe = _connection.Output;
        var buffer = output.WrittenMemory;
        int at = 0;
        try
        {
            foreach (var splice in output.Splices)
            {
                pipe.Write(buffer.Span[at..splice.Position]);
                at = splice.Position;
                int done = 0, unflushed = 0;
                while (done < splice.Length)
                {
                    var memory = pipe.GetMemory(Math.Min(splice.Length - done, SpliceReadBytes));
                    int n = Math.Min(memory.Length, splice.Length - done);
                    if (!TryReadRegion(splice, done, memory.Span[..n])) return false;
                    pipe.Advance(n);
                    done += n;
                    unflushed += n;
                    if (unflushed < FlushEveryBytes) continue;
                    unflushed = 0;
                    var flushed = await pipe.FlushAsync().ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled) return false;
                }
            }
            var result = await pipe.WriteAsync(buffer[at..]).ConfigureAwait(false);
            return !result.IsCompleted && !result.IsCanceled;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// One read of a region into the pipe. A failure here comes after the frame's size went out, so nothing truthful can
    /// follow: the connection is cut (its unsent bytes dropped) and the client fetches again on a new one.
    /// </summary>
    private bool TryReadRegion(KafkaWriter.Splice splice, int offset, Span<byte> destination)
    {
        try
        {
            splice.Bytes.ReadAt(splice.Start + offset, destination);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or ArgumentException)
        {
            _log.LogError(e, "Closing connection {Id} from {Client}: reading fetched records to send failed", Id, RemoteAddress);
            _connection.Abort();
            return false;
        }
    }

    /// <summary>Awaits one answer and encodes it; false when the connection must close after what is already encoded.</summary>
    private async ValueTask<bool> EncodeAsync(Pending pending, KafkaWriter output)
    {
        try
        {
            var body = await pending.Body.ConfigureAwait(false);
            if (pending.Context is { NoResponse: true } quiet) return !quiet.CloseConnection;
            MessageFrames.WriteResponse(output, pending.Version, pending.CorrelationId, body);
            return pending.Context is not { CloseConnection: true };
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception e)
        {
            _log.LogError(e, "Closing connection {Id} from {Client}: {Api} v{Version} (correlation id {CorrelationId}) failed",
                Id, RemoteAddress, pending.Api.Key, pending.Version, pending.CorrelationId);
            return false;
        }
    }

    /// <summary>Lets a handler finish (it may still read the request's frame) before its buffers may go back to the pool.</summary>
    private static async ValueTask DiscardAsync(Pending pending)
    {
        try
        {
            await pending.Body.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The connection is closing; the answer is not wanted.
        }
    }

    private static void Release(Pending pending)
    {
        pending.Context?.ReleasePooled();
        if (pending.Frame is not null) ArrayPool<byte>.Shared.Return(pending.Frame);
    }
}
