using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Server;

/// <summary>
/// One client TCP connection: cuts the byte stream into length-prefixed frames and hands them to the request
/// processor in order; answers and watch events queue into one outgoing buffer that a writer loop sends in as few
/// syscalls as possible. A connection's first four bytes may be a four-letter word instead of a length.
/// </summary>
public sealed class ClientConnection : IClientChannel
{
    private static long s_nextId;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly RequestProcessor _processor;
    private readonly FourLetterWords _fourLetterWords;
    private readonly int _maxFrame;
    private readonly ILogger _log;
    private readonly object _outLock = new();
    private readonly SemaphoreSlim _outSignal = new(0);
    private byte[] _out = new byte[4096];
    private byte[] _outSpare = new byte[4096];
    private int _outLength;
    private volatile bool _closed;
    private int _inFlight;
    private TaskCompletionSource? _roomSignal;

    /// <summary>
    /// Requests a connection may have waiting for answers before it is read no further (ZooKeeper's
    /// globalOutstandingLimit, per connection): a client that floods requests slows down instead of filling memory.
    /// </summary>
    public const int MaxInFlight = 1000;

    /// <summary>Answers queued but not yet taken by the socket; past this the connection is read no further.</summary>
    public const int MaxPendingOutput = 1 << 20;

    public int PendingOutputBytes => Volatile.Read(ref _outLength);

    public ClientConnection(Socket socket, RequestProcessor processor, FourLetterWords fourLetterWords, int maxFrame, ILogger log)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _processor = processor;
        _fourLetterWords = fourLetterWords;
        _maxFrame = maxFrame;
        _log = log;
        var remote = socket.RemoteEndPoint as IPEndPoint;
        RemoteIp = remote?.Address.ToString() ?? "";
        RemoteAddress = remote?.ToString() ?? "?";
        Id = Interlocked.Increment(ref s_nextId);
    }

    public long Id { get; }
    public string RemoteIp { get; }
    public string RemoteAddress { get; }
    public DateTimeOffset Established { get; } = DateTimeOffset.UtcNow;
    public bool IsClosed => _closed;

    // Owned by the request processor's thread.
    public Session? Session { get; set; }
    public List<Id> AuthIds { get; } = [];
    public long PacketsReceived { get; set; }
    public long PacketsSent { get; set; }

    public void Process(WatcherEvent e)
    {
        var w = new JuteWriter(64 + e.Path.Length);
        w.BeginFrame();
        new ReplyHeader(Xids.Notification, -1, ErrorCode.Ok).Write(w);
        e.Write(w);
        w.EndFrame();
        Send(w.WrittenSpan);
    }

    /// <summary>Queues a frame; safe from any thread. Frames go out in the order they were queued.</summary>
    public void Send(ReadOnlySpan<byte> frame)
    {
        lock (_outLock)
        {
            if (_closed) return;
            if (_outLength + frame.Length > _out.Length)
                Array.Resize(ref _out, Math.Max(_out.Length * 2, _outLength + frame.Length));
            frame.CopyTo(_out.AsSpan(_outLength));
            bool wasEmpty = _outLength == 0;
            _outLength += frame.Length;
            if (wasEmpty) _outSignal.Release();
        }
    }

    /// <summary>
    /// Queues a frame without waking the writer, so that answers made together leave in one send. True when the
    /// caller must call <see cref="Flush"/> soon (the frame may otherwise wait for the next wake-up).
    /// </summary>
    public bool SendDeferred(ReadOnlySpan<byte> frame)
    {
        lock (_outLock)
        {
            if (_closed) return false;
            if (_outLength + frame.Length > _out.Length)
                Array.Resize(ref _out, Math.Max(_out.Length * 2, _outLength + frame.Length));
            frame.CopyTo(_out.AsSpan(_outLength));
            bool wasEmpty = _outLength == 0;
            _outLength += frame.Length;
            return wasEmpty;
        }
    }

    /// <summary>Wakes the writer for frames queued by <see cref="SendDeferred"/>.</summary>
    public void Flush() => _outSignal.Release();

    /// <summary>Closes after what is already queued has been sent.</summary>
    public void Close()
    {
        lock (_outLock)
        {
            if (_closed) return;
            _closed = true;
        }
        _outSignal.Release();
    }

    public async Task RunAsync(CancellationToken ct)
    {
        var writer = WriteLoopAsync();
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        try
        {
            bool first = true;
            while (!_closed)
            {
                var result = await reader.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                string? word = null;
                bool full = false;
                while (!_closed && !(full = NoRoom) && TryReadFrame(ref buffer, first, out var frame, out word))
                {
                    if (word is not null) break;
                    if (first) OnConnect(frame!); else OnRequest(frame!);
                    first = false;
                }
                // Stopped for lack of room: leave the rest unexamined, so the next read returns it without waiting for more.
                if (full) reader.AdvanceTo(buffer.Start);
                else reader.AdvanceTo(buffer.Start, buffer.End);
                if (NoRoom) await WaitForRoomAsync().ConfigureAwait(false);
                if (word is not null)
                {
                    // A four-letter word takes over the connection: answer it, then close.
                    await AnswerFourLetterWordAsync(word).ConfigureAwait(false);
                    break;
                }
                if (result.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the server is stopping.
        }
        finally
        {
            Close();
            await reader.CompleteAsync().ConfigureAwait(false);
            // A client that stopped reading can hold the writer in a send forever: give it a moment, then cut it off.
            if (await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false) != writer)
            {
                _log.LogWarning("Connection from {Client} does not take its answers; dropping it", RemoteAddress);
                _socket.Dispose();
            }
            await writer.ConfigureAwait(false);
            _processor.Post(new ConnectionClosedWork(this));
        }
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, bool first, out byte[]? frame, out string? fourLetterWord)
    {
        frame = null;
        fourLetterWord = null;
        if (buffer.Length < 4) return false;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        if (first && FourLetterWords.IsFourLetterWord(prefix, out var word))
        {
            buffer = buffer.Slice(4);
            fourLetterWord = word;
            return true;
        }
        int length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (length < 0 || length > _maxFrame)
        {
            _log.LogWarning("Closing connection from {Client}: frame length {Length} is outside 0..{Max} (jute.maxbuffer)", RemoteAddress, length, _maxFrame);
            Close();
            return false;
        }
        if (buffer.Length < 4 + length) return false;
        _headerMissing = !first && length < RequestHeaderSize;
        if (first || _headerMissing)
            frame = buffer.Slice(4, length).ToArray();
        else
        {
            // A request: read its header here and copy only the body, once.
            Span<byte> header = stackalloc byte[RequestHeaderSize];
            buffer.Slice(4, RequestHeaderSize).CopyTo(header);
            _xid = BinaryPrimitives.ReadInt32BigEndian(header);
            _type = (OpCode)BinaryPrimitives.ReadInt32BigEndian(header[4..]);
            frame = buffer.Slice(4 + RequestHeaderSize, length - RequestHeaderSize).ToArray();
        }
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private const int RequestHeaderSize = 8;
    // The header of the frame TryReadFrame just returned (reader loop only).
    private int _xid;
    private OpCode _type;
    private bool _headerMissing;

    private void OnConnect(byte[] frame)
    {
        try
        {
            var reader = new JuteReader(frame);
            _processor.Post(new ConnectWork(this, ConnectRequest.Read(ref reader)));
        }
        catch (JuteException e)
        {
            _log.LogWarning("Closing connection from {Client}: malformed connect request: {Reason}", RemoteAddress, e.Message);
            Close();
        }
    }

    /// <summary>A request whose header TryReadFrame took off: <paramref name="body"/> is what follows it.</summary>
    private void OnRequest(byte[] body)
    {
        if (_headerMissing)
        {
            _log.LogWarning("Closing connection from {Client}: request of {Length} bytes has no room for its header", RemoteAddress, body.Length);
            Close();
            return;
        }
        Interlocked.Increment(ref _inFlight);
        _processor.Post(new RequestWork(this, _xid, _type, body));
    }

    /// <summary>Called once per request when its answer is queued (or it was dropped).</summary>
    public void RequestDone()
    {
        if (Interlocked.Decrement(ref _inFlight) < MaxInFlight)
            Interlocked.Exchange(ref _roomSignal, null)?.TrySetResult();
    }

    private bool NoRoom => Volatile.Read(ref _inFlight) >= MaxInFlight || Volatile.Read(ref _outLength) > MaxPendingOutput;

    private async Task WaitForRoomAsync()
    {
        while (NoRoom && !_closed)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _roomSignal, signal);
            if (!NoRoom) break;
            await Task.WhenAny(signal.Task, Task.Delay(1000)).ConfigureAwait(false);
        }
    }

    private async Task AnswerFourLetterWordAsync(string word)
    {
        string answer;
        try { answer = await _fourLetterWords.RunAsync(word, this).ConfigureAwait(false); }
        catch (Exception e) { answer = $"Error: {e.Message}\n"; }
        Send(System.Text.Encoding.UTF8.GetBytes(answer));
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            while (true)
            {
                await _outSignal.WaitAsync().ConfigureAwait(false);
                int length;
                byte[] chunk;
                lock (_outLock)
                {
                    length = _outLength;
                    chunk = _out;
                    _out = _outSpare;
                    _outSpare = chunk;
                    _outLength = 0;
                    if (length == 0 && _closed) break;
                }
                if (length > 0) await _stream.WriteAsync(chunk.AsMemory(0, length)).ConfigureAwait(false);
                Interlocked.Exchange(ref _roomSignal, null)?.TrySetResult();
                if (_closed && Volatile.Read(ref _outLength) == 0)
                {
                    lock (_outLock) if (_outLength == 0) break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_outLock) _closed = true;
            try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            _stream.Dispose();
        }
    }
}
