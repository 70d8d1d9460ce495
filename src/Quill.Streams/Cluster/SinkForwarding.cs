using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Confluent.Kafka;
using Quill.Streams.Connectors.Kafka;

namespace Quill.Streams.Cluster;

/// <summary>
/// How a follower's exactly-once sink task reaches the leader's transactions (a <c>"sink"</c> connection to the leader's
/// data endpoint, one per sink task): length-prefixed frames, a record (kind 0: timestamp (8, -1 none), topic (2-byte
/// length, UTF-8), partition (4, -1 for the Kafka client's choice), key and value (4-byte length each, -1 null)), a barrier (kind 1: the checkpoint id, 8) or the end
/// (kind 2). The leader answers each barrier with its checkpoint id (8 bytes, big-endian) once the records before it
/// are in the epoch's producer.
/// </summary>
internal static class SinkFrames
{
    public const byte Record = 0, Barrier = 1, End = 2;

    /// <summary>A record for the partition the Kafka client chooses.</summary>
    public static byte[] EncodeRecord(string topic, Message<byte[]?, byte[]?> message) =>
        EncodeRecord(new TopicPartition(topic, Partition.Any), message);

    /// <summary>A record for <paramref name="target"/>'s partition (the sink's partitioner chose it in the follower).</summary>
    public static byte[] EncodeRecord(TopicPartition target, Message<byte[]?, byte[]?> message)
    {
        string topic = target.Topic;
        int topicBytes = Encoding.UTF8.GetByteCount(topic);
        int body = 1 + 8 + 2 + topicBytes + 4 + 4 + (message.Key?.Length ?? 0) + 4 + (message.Value?.Length ?? 0);
        var frame = new byte[4 + body];
        var span = frame.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, body);
        span[4] = Record;
        long timestamp = message.Timestamp.Type == TimestampType.NotAvailable ? -1 : message.Timestamp.UnixTimestampMs;
        BinaryPrimitives.WriteInt64BigEndian(span[5..], timestamp);
        BinaryPrimitives.WriteUInt16BigEndian(span[13..], checked((ushort)topicBytes));
        int at = 15 + Encoding.UTF8.GetBytes(topic, span[15..]);
        BinaryPrimitives.WriteInt32BigEndian(span[at..], target.Partition.Value);
        at = WriteBytes(span, at + 4, message.Key);
        WriteBytes(span, at, message.Value);
        return frame;
    }

    private static int WriteBytes(Span<byte> span, int at, byte[]? bytes)
    {
        BinaryPrimitives.WriteInt32BigEndian(span[at..], bytes?.Length ?? -1);
        at += 4;
        if (bytes is null) return at;
        bytes.CopyTo(span[at..]);
        return at + bytes.Length;
    }

    public static byte[] EncodeControl(byte kind, long checkpointId)
    {
        var frame = new byte[4 + 1 + 8];
        BinaryPrimitives.WriteInt32BigEndian(frame, 9);
        frame[4] = kind;
        BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(5), checkpointId);
        return frame;
    }

    public static (string Topic, Message<byte[]?, byte[]?> Message) DecodeRecord(ReadOnlySpan<byte> body)
    {
        var (target, message) = DecodeTargetedRecord(body);
        return (target.Topic, message);
    }

    /// <summary>A record and where it goes: its topic and partition (<see cref="Partition.Any"/>: the Kafka client's choice).</summary>
    public static (TopicPartition Target, Message<byte[]?, byte[]?> Message) DecodeTargetedRecord(ReadOnlySpan<byte> body)
    {
        long timestamp = BinaryPrimitives.ReadInt64BigEndian(body[1..]);
        int topicBytes = BinaryPrimitives.ReadUInt16BigEndian(body[9..]);
        string topic = Encoding.UTF8.GetString(body.Slice(11, topicBytes));
        int at = 11 + topicBytes;
        int partition = BinaryPrimitives.ReadInt32BigEndian(body[at..]);
        at += 4;
        var key = ReadBytes(body, ref at);
        var value = ReadBytes(body, ref at);
        var message = new Message<byte[]?, byte[]?> { Key = key, Value = value };
        if (timestamp >= 0) message.Timestamp = new Timestamp(timestamp, TimestampType.CreateTime);
        return (new TopicPartition(topic, partition), message);
    }

    private static byte[]? ReadBytes(ReadOnlySpan<byte> body, ref int at)
    {
        int length = BinaryPrimitives.ReadInt32BigEndian(body[at..]);
        at += 4;
        if (length < 0) return null;
        var bytes = body.Slice(at, length).ToArray();
        at += length;
        return bytes;
    }
}

/// <summary>
/// A follower's exactly-once sink task, seen by the sink as its writer: its records and barriers go, in order, over a
/// connection of its own to the leader, which writes the records into the job's transactions. A barrier completes when
/// the leader answers it, so the task acknowledges the checkpoint only once every record before the barrier is in the
/// checkpoint's transaction. Records wait in a bounded queue (backpressure, as a full mailbox); a broken connection
/// fails the generation.
/// </summary>
internal sealed class SinkForwarder : IExactlyOnceWriter
{
    private readonly Channel<(byte[] Frame, TaskCompletionSource? Answered)> _queue;
    private readonly Queue<(long Id, TaskCompletionSource Answered)> _unanswered = new();
    private readonly string _address;
    private readonly Hello _hello;
    private readonly Action<Exception> _failed;
    private readonly CancellationTokenSource _stop;
    private Stream? _connection;
    private volatile Exception? _failure;
    /// <summary>Set before the end frame is queued: the leader may close the connection once it has it.</summary>
    private volatile bool _ending;
    /// <summary>Completes once every queued frame, the end's included, is written to the connection.</summary>
    private readonly TaskCompletionSource _allSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SinkForwarder(string address, Hello hello, int capacity, Action<Exception> failed, CancellationToken abort)
    {
        _address = address;
        _hello = hello;
        _failed = failed;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        _queue = Channel.CreateBounded<(byte[], TaskCompletionSource?)>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true });
        // Observed here: a forwarder that fails before its end has nobody waiting for the end to be sent.
        _allSent.Task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        _ = Task.Run(PumpAsync);
    }

    public ValueTask ProduceAsync(TopicPartition target, Message<byte[]?, byte[]?> message, Action<DeliveryReport<byte[]?, byte[]?>>? onDelivery)
    {
        // Delivery is the leader's: a record it cannot write fails its transaction and the generation.
        ThrowIfFailed();
        var frame = SinkFrames.EncodeRecord(target, message);
        return _queue.Writer.TryWrite((frame, null)) ? ValueTask.CompletedTask : _queue.Writer.WriteAsync((frame, null), _stop.Token);
    }

    public async ValueTask BarrierAsync(long checkpointId)
    {
        ThrowIfFailed();
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync((SinkFrames.EncodeControl(SinkFrames.Barrier, checkpointId), answered), _stop.Token);
        await answered.Task.WaitAsync(_stop.Token);
    }

    public async ValueTask EndAsync()
    {
        ThrowIfFailed();
        _ending = true;
        await _queue.Writer.WriteAsync((SinkFrames.EncodeControl(SinkFrames.End, 0), null), _stop.Token);
        _queue.Writer.TryComplete();
        // The end on the wire before the sink lets go of the connection (disposing it would cut the end off).
        await _allSent.Task.WaitAsync(_stop.Token);
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure) throw new IOException(failure.Message, failure);
    }

    private async Task PumpAsync()
    {
        var token = _stop.Token;
        try
        {
            var stream = _connection = await DataEndpoint.ConnectAsync(_address, _hello, token);
            var answers = Task.Run(async () =>
            {
                try
                {
                    await ReadAnswersAsync(stream, token);
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    Fail(new IOException($"the leader at {_address} ({_hello}) did not answer a barrier: {e.Message}", e), report: true);
                }
            }, CancellationToken.None);
            var reader = _queue.Reader;
            var buffer = new ArrayBufferWriter<byte>(RemoteChannelWriter<int>.BatchBytes * 2);
            while (await reader.WaitToReadAsync(token))
            {
                while (buffer.WrittenCount < RemoteChannelWriter<int>.BatchBytes && reader.TryRead(out var item))
                {
                    if (item.Answered is not null)
                    {
                        long id = BinaryPrimitives.ReadInt64BigEndian(item.Frame.AsSpan(5));
                        lock (_unanswered) _unanswered.Enqueue((id, item.Answered));
                    }
                    buffer.Write(item.Frame);
                }
                await stream.WriteAsync(buffer.WrittenMemory, token);
                buffer.ResetWrittenCount();
            }
            _allSent.TrySetResult();
            await answers;
        }
        catch (Exception e) when (token.IsCancellationRequested)
        {
            Fail(new OperationCanceledException("the generation ended", e), report: false);
        }
        catch (Exception e)
        {
            Fail(new IOException($"forwarding sink records to the leader at {_address} ({_hello}) failed: {e.Message}", e), report: true);
        }
    }

    /// <summary>The leader's answers to the barriers, in the order they were sent; returns once the end was sent and all are answered.</summary>
    private async Task ReadAnswersAsync(Stream stream, CancellationToken token)
    {
        var answer = new byte[8];
        while (true)
        {
            lock (_unanswered)
            {
                if (_unanswered.Count == 0 && _queue.Reader.Completion.IsCompleted) return;
            }
            int read = await stream.ReadAtLeastAsync(answer, 8, throwOnEndOfStream: false, token);
            if (read < 8)
            {
                // The leader closes after the end, which it may have read before the queue was marked complete here.
                if (_ending) return;
                throw new IOException("the leader closed the connection");
            }
            long id = BinaryPrimitives.ReadInt64BigEndian(answer);
            (long Id, TaskCompletionSource Answered) next;
            lock (_unanswered)
            {
                if (!_unanswered.TryDequeue(out next)) throw new InvalidDataException($"the leader answered barrier {id}, which was not sent");
            }
            if (next.Id != id) throw new InvalidDataException($"the leader answered barrier {id}, expected {next.Id}");
            next.Answered.TrySetResult();
        }
    }

    private void Fail(Exception failure, bool report)
    {
        _failure ??= failure;
        _queue.Writer.TryComplete(failure);
        _allSent.TrySetException(failure);
        lock (_unanswered)
        {
            while (_unanswered.TryDequeue(out var next)) next.Answered.TrySetException(failure);
        }
        if (report) _failed(failure);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _connection?.Dispose();
    }
}

/// <summary>
/// The leader's end of a follower sink task's connection: each record into the producer of the epoch the channel is
/// in (as a sink task here would write it), each barrier answered once the records before it are in their producer.
/// A failed delivery or a connection that closes before the end fails the generation.
/// </summary>
internal static class SinkReceiver
{
    public static async Task ReceiveAsync(Stream stream, ExactlyOnceOutput output, CancellationToken abort)
    {
        var frames = new FrameReader(new BufferedStream(stream, 64 << 10));
        using var writer = output.OpenWriter(abort);
        var failure = new StrongBox<Exception?>();
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = report =>
        {
            if (report.Error.IsError) Interlocked.CompareExchange(ref failure.Value, new KafkaException(report.Error), null);
        };
        var answer = new byte[8];
        while (await frames.NextAsync(abort) is { } frame)
        {
            if (Volatile.Read(ref failure.Value) is { } failed)
                throw new InvalidOperationException($"writing a follower's sink records failed: {failed.Message}", failed);
            var body = frame.Span;
            if (body.Length < 1) throw new InvalidDataException("an empty sink frame");
            switch (body[0])
            {
                case SinkFrames.Record:
                    var (target, message) = SinkFrames.DecodeTargetedRecord(body);
                    await writer.ProduceAsync(target, message, onDelivery);
                    break;
                case SinkFrames.Barrier:
                    long id = BinaryPrimitives.ReadInt64BigEndian(body[1..]);
                    await writer.BarrierAsync(id);
                    BinaryPrimitives.WriteInt64BigEndian(answer, id);
                    await stream.WriteAsync(answer, abort);
                    break;
                case SinkFrames.End:
                    await writer.EndAsync();
                    return;
                default:
                    throw new InvalidDataException($"unknown sink frame kind {body[0]}");
            }
        }
        throw new IOException("a follower's sink connection closed before its end (its process left or failed)");
    }
}
