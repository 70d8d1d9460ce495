using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Pipeline;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;
using Quill.Network;

namespace Quill.Keeper.Server;

/// <summary>
/// One client connection: cuts the byte stream into length-prefixed frames (<see cref="FrameCutter"/>, jute.maxbuffer)
/// and hands them to the request processor in order; answers and watch events, queued from the processor's thread,
/// leave through the connection's <see cref="FrameOutput"/>. A connection's first four bytes may be a four-letter word
/// instead of a length.
/// </summary>
public sealed class ClientConnection : IClientChannel
{
    private readonly NetworkConnection _connection;
    private readonly FrameOutput _output = new();
    /// <summary>Null when the server does not serve sessions right now (an ensemble member between terms).</summary>
    private readonly RequestProcessor? _processor;
    private readonly FourLetterWords _fourLetterWords;
    private readonly int _maxFrame;
    private readonly ILogger _log;
    private readonly object _closeLock = new();
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

    /// <summary>How long a closing connection waits for a client to take its last answers before dropping it.</summary>
    private static readonly TimeSpan s_sendGrace = TimeSpan.FromSeconds(5);

    public int PendingOutputBytes => _output.PendingBytes;

    public ClientConnection(NetworkConnection connection, RequestProcessor? processor, FourLetterWords fourLetterWords, int maxFrame, ILogger log)
    {
        _connection = connection;
        _processor = processor;
        _fourLetterWords = fourLetterWords;
        _maxFrame = maxFrame;
        _log = log;
    }

    public long Id => _connection.Id;
    public string RemoteIp => _connection.RemoteIp;
    public string RemoteAddress => _connection.RemoteAddress;
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
        if (!_closed) _output.Write(frame);
    }

    /// <summary>
    /// Queues a frame without waking the writer, so that answers made together leave in one send. True when the
    /// caller must call <see cref="Flush"/> soon (the frame may otherwise wait for the next wake-up).
    /// </summary>
    public bool SendDeferred(ReadOnlySpan<byte> frame) => !_closed && _output.WriteDeferred(frame);

    /// <summary>Wakes the writer for frames queued by <see cref="SendDeferred"/>.</summary>
    public void Flush() => _output.Flush();

    /// <summary>Closes after what is already queued has been sent.</summary>
    public void Close()
    {
        lock (_closeLock)
        {
            if (_closed) return;
            _closed = true;
        }
        _output.Complete();
        // The reader may be waiting for bytes that will not come: it stops now.
        _connection.Input.CancelPendingRead();
        Interlocked.Exchange(ref _roomSignal, null)?.TrySetResult();
    }

    /// <summary>Serves the connection until the client goes, bad input, <see cref="Close"/>, or the server stops it.</summary>
    public async Task RunAsync()
    {
        var sender = _output.SendAsync(_connection.Output);
        var reader = _connection.Input;
        try
        {
            bool first = true;
            while (!_closed)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled) break;
                var buffer = result.Buffer;
                string? word = null;
                bool full = false;
                while (!_closed && !(full = NoRoom) && TryReadFrame(ref buffer, first, out var frame, out word))
                {
                    if (word is not null) break;
                    if (first) OnConnect(frame!); else OnRequest(frame!);
                    first = false;
                }
                if (!full && word is null && !_closed && FrameAssembler.MustAssemble(buffer, _maxFrame, out int large))
                {
                    // Longer than the transport reads ahead: copied out as it arrives.
                    var whole = new byte[large];
                    if (!await FrameAssembler.ReadAsync(reader, buffer, whole, CancellationToken.None).ConfigureAwait(false)) break;
                    OnAssembled(whole, first);
                    first = false;
                    if (NoRoom) await WaitForRoomAsync().ConfigureAwait(false);
                    continue;
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
            // The server is stopping: the requests already read still get their answers.
            if (_connection.Stopping.IsCancellationRequested) await WaitForAnswersAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or the server is stopping.
        }
        finally
        {
            Close();
            // A client that stopped reading can hold the sender forever: give it a moment, then cut it off.
            if (await Task.WhenAny(sender, Task.Delay(s_sendGrace)).ConfigureAwait(false) != sender)
            {
                _log.LogWarning("Connection from {Client} does not take its answers; dropping it", RemoteAddress);
                _connection.Abort();
            }
            await sender.ConfigureAwait(false);
            _processor?.Post(new ConnectionClosedWork(this));
        }
    }

    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, bool first, out byte[]? frame, out string? fourLetterWord)
    {
        frame = null;
        fourLetterWord = null;
        if (first && buffer.Length >= FrameCutter.PrefixLength)
        {
            Span<byte> prefix = stackalloc byte[FrameCutter.PrefixLength];
            buffer.Slice(0, FrameCutter.PrefixLength).CopyTo(prefix);
            if (FourLetterWords.IsFourLetterWord(prefix, out var word))
            {
                buffer = buffer.Slice(FrameCutter.PrefixLength);
                fourLetterWord = word;
                return true;
            }
        }
        switch (FrameCutter.TryCut(ref buffer, _maxFrame, out var body, out int length))
        {
            case FrameCut.TooBig:
                _log.LogWarning("Closing connection from {Client}: frame length {Length} is outside 0..{Max} (jute.maxbuffer)", RemoteAddress, length, _maxFrame);
                Close();
                return false;
            case FrameCut.NeedMore:
                return false;
        }
        _headerMissing = !first && length < RequestHeaderSize;
        if (first || _headerMissing)
            frame = body.ToArray();
        else
        {
            // A request: read its header here and copy only the body, once.
            Span<byte> header = stackalloc byte[RequestHeaderSize];
            body.Slice(0, RequestHeaderSize).CopyTo(header);
            _xid = BinaryPrimitives.ReadInt32BigEndian(header);
            _type = (OpCode)BinaryPrimitives.ReadInt32BigEndian(header[4..]);
            frame = body.Slice(RequestHeaderSize).ToArray();
        }
        return true;
    }

    private const int RequestHeaderSize = 8;
    // The header of the frame TryReadFrame just returned (reader loop only).
    private int _xid;
    private OpCode _type;
    private bool _headerMissing;

    /// <summary>A whole frame from <see cref="FrameAssembler"/> (always longer than a request header).</summary>
    private void OnAssembled(byte[] frame, bool first)
    {
        if (first)
        {
            OnConnect(frame);
            return;
        }
        _headerMissing = false;
        _xid = BinaryPrimitives.ReadInt32BigEndian(frame);
        _type = (OpCode)BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(4));
        OnRequest(frame.AsSpan(RequestHeaderSize).ToArray());
    }

    private void OnConnect(byte[] frame)
    {
        try
        {
            if (_processor is null)
            {
                _log.LogInformation("Closing connection from {Client}: this server is not serving (no leader yet, or syncing with it)", RemoteAddress);
                Close();
                return;
            }
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
        _processor!.Post(new RequestWork(this, _xid, _type, body));
    }

    /// <summary>Called once per request when its answer is queued (or it was dropped).</summary>
    public void RequestDone()
    {
        if (Interlocked.Decrement(ref _inFlight) < MaxInFlight)
            Interlocked.Exchange(ref _roomSignal, null)?.TrySetResult();
    }

    private bool NoRoom => Volatile.Read(ref _inFlight) >= MaxInFlight || _output.PendingBytes > MaxPendingOutput;

    private async Task WaitForRoomAsync()
    {
        while (NoRoom && !_closed)
        {
            if (_output.PendingBytes > MaxPendingOutput) await _output.WaitForRoomAsync(MaxPendingOutput).ConfigureAwait(false);
            else await WaitForRequestDoneAsync(MaxInFlight - 1).ConfigureAwait(false);
        }
    }

    private async Task WaitForAnswersAsync()
    {
        while (Volatile.Read(ref _inFlight) > 0 && !_closed) await WaitForRequestDoneAsync(0).ConfigureAwait(false);
    }

    /// <summary>Returns once at most <paramref name="inFlight"/> requests await answers (or the connection closed).</summary>
    private async Task WaitForRequestDoneAsync(int inFlight)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Published before the check (a full fence): RequestDone either sees it or has already decremented.
        Interlocked.Exchange(ref _roomSignal, signal);
        if (Volatile.Read(ref _inFlight) <= inFlight || _closed) return;
        // A connection cut off (aborted: the drain time ran out, or the listener closed it) waits no more.
        await signal.Task.WaitAsync(_connection.Closed).ConfigureAwait(false);
    }

    private async Task AnswerFourLetterWordAsync(string word)
    {
        string answer;
        try { answer = await _fourLetterWords.RunAsync(word, this).ConfigureAwait(false); }
        catch (Exception e) { answer = $"Error: {e.Message}\n"; }
        Send(System.Text.Encoding.UTF8.GetBytes(answer));
    }
}
