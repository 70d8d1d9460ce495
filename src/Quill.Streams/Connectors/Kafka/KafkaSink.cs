using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// Writes each record to a topic, the record's timestamp as the Kafka timestamp. At-least-once: with its own producer
/// per task (idempotent, acks=all); sends are asynchronous; a barrier or the end waits until everything sent is
/// acknowledged (what an at-least-once checkpoint needs). Exactly-once: through the job's output
/// (<see cref="ExactlyOnceOutput.OpenWriter"/>): in the leader, the transactional producer of the current epoch, a barrier
/// moving the task on to the next epoch's transaction, which the checkpoint then flushes and commits; in a follower of a
/// scaled-out job, a connection to the leader, which writes the records into the same transactions. The end leaves the
/// open transaction to be aborted with the job. A failed delivery fails the task at the next record or flush.
/// </summary>
internal sealed class KafkaSink<T> : IStreamInput<T>, IDisposable
{
    private readonly string _topic;
    private readonly Func<T, byte[]?> _key;
    private readonly Func<T, byte[]?> _value;
    private readonly CancellationToken _abort;
    /// <summary>At-least-once only: this task's own producer.</summary>
    private readonly IProducer<byte[]?, byte[]?>? _ownProducer;
    /// <summary>Exactly-once only: where this task's records go (the epoch's transaction, here or in the leader).</summary>
    private readonly IExactlyOnceWriter? _exactlyOnce;
    private readonly Action<DeliveryReport<byte[]?, byte[]?>> _onDelivery;
    private volatile Exception? _failure;
    private int _disposed;

    public KafkaSink(StreamJobOptions options, string topic, Func<T, byte[]?> key, Func<T, byte[]?> value, CancellationToken abort,
        ExactlyOnceOutput? exactlyOnce)
    {
        _topic = topic;
        _key = key;
        _value = value;
        _abort = abort;
        if (exactlyOnce is null) _ownProducer = new ProducerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Producer(options)).Build();
        else _exactlyOnce = exactlyOnce.OpenWriter(abort);
        _onDelivery = report =>
        {
            if (report.Error.IsError) _failure ??= new KafkaException(report.Error);
        };
    }

    public ValueTask RecordAsync(T value, long timestamp)
    {
        ThrowIfFailed();
        var message = new Message<byte[]?, byte[]?> { Key = _key(value), Value = _value(value) };
        if (timestamp >= 0) message.Timestamp = new Timestamp(timestamp, TimestampType.CreateTime);
        if (_exactlyOnce is not null) return _exactlyOnce.ProduceAsync(_topic, message, _onDelivery);
        _ownProducer!.ProduceWaiting(_topic, message, _onDelivery, _abort);
        return ValueTask.CompletedTask;
    }

    public ValueTask WatermarkAsync(long watermark) => ValueTask.CompletedTask;
    public ValueTask WatermarkStatusAsync(WatermarkStatus status) => ValueTask.CompletedTask;
    public ValueTask ProcessingTimeAsync(long now) => ValueTask.CompletedTask;

    public async ValueTask BarrierAsync(long checkpointId)
    {
        if (_exactlyOnce is null) Flush();
        else
        {
            ThrowIfFailed();
            await _exactlyOnce.BarrierAsync(checkpointId);
        }
    }

    public async ValueTask EndAsync()
    {
        if (_exactlyOnce is null) Flush();
        else await _exactlyOnce.EndAsync();
        Dispose();
    }

    /// <summary>Also called by the job when it ends (a failed job never reaches the end of its streams).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _ownProducer?.Dispose();
        _exactlyOnce?.Dispose();
    }

    private void Flush()
    {
        while (_ownProducer!.Flush(TimeSpan.FromMilliseconds(500)) > 0) _abort.ThrowIfCancellationRequested();
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure) throw new InvalidOperationException($"writing to '{_topic}' failed: {failure.Message}", failure);
    }
}

internal static class ProducerExtensions
{
    /// <summary>Hands <paramref name="message"/> to <paramref name="producer"/>, waiting while the client's send queue is full.</summary>
    public static void ProduceWaiting(this IProducer<byte[]?, byte[]?> producer, string topic, Message<byte[]?, byte[]?> message,
        Action<DeliveryReport<byte[]?, byte[]?>>? onDelivery, CancellationToken abort)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivery);
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's send queue is full: serve delivery reports until there is room.
                abort.ThrowIfCancellationRequested();
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }
}
