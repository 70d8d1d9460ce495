using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// Writes each record to a topic, the record's timestamp as the Kafka timestamp. At-least-once: with its own producer
/// per task (idempotent, acks=all); sends are asynchronous; a barrier or the end waits until everything sent is
/// acknowledged (what an at-least-once checkpoint needs). Exactly-once: through the job's transactional producer of the
/// current epoch (<see cref="ExactlyOnceOutput"/>); a barrier moves the task on to the next epoch's transaction, which
/// the checkpoint then flushes and commits; the end leaves the open transaction to be aborted with the job. A failed
/// delivery fails the task at the next record or flush.
/// </summary>
internal sealed class KafkaSink<T> : IStreamInput<T>, IDisposable
{
    private readonly string _topic;
    private readonly Func<T, byte[]?> _key;
    private readonly Func<T, byte[]?> _value;
    private readonly CancellationToken _abort;
    /// <summary>At-least-once only: this task's own producer.</summary>
    private readonly IProducer<byte[]?, byte[]?>? _ownProducer;
    private readonly ExactlyOnceOutput? _exactlyOnce;
    /// <summary>Exactly-once only: the checkpoint whose transaction this task writes to (the one after its last barrier).</summary>
    private long _epoch;
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
        _exactlyOnce = exactlyOnce;
        if (exactlyOnce is null) _ownProducer = new ProducerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Producer(options)).Build();
        else _epoch = exactlyOnce.FirstEpoch;
        _onDelivery = report =>
        {
            if (report.Error.IsError) _failure ??= new KafkaException(report.Error);
        };
    }

    private IProducer<byte[]?, byte[]?> Producer => _exactlyOnce?.ProducerFor(_epoch) ?? _ownProducer!;

    public ValueTask RecordAsync(T value, long timestamp)
    {
        ThrowIfFailed();
        var producer = Producer;
        var message = new Message<byte[]?, byte[]?> { Key = _key(value), Value = _value(value) };
        if (timestamp >= 0) message.Timestamp = new Timestamp(timestamp, TimestampType.CreateTime);
        while (true)
        {
            try
            {
                producer.Produce(_topic, message, _onDelivery);
                return ValueTask.CompletedTask;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's send queue is full: serve delivery reports until there is room.
                _abort.ThrowIfCancellationRequested();
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    public ValueTask WatermarkAsync(long watermark) => ValueTask.CompletedTask;
    public ValueTask WatermarkStatusAsync(WatermarkStatus status) => ValueTask.CompletedTask;
    public ValueTask ProcessingTimeAsync(long now) => ValueTask.CompletedTask;

    public ValueTask BarrierAsync(long checkpointId)
    {
        if (_exactlyOnce is null) Flush();
        else _epoch = checkpointId + 1;
        return ValueTask.CompletedTask;
    }

    public ValueTask EndAsync()
    {
        if (_exactlyOnce is null) Flush();
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Also called by the job when it ends (a failed job never reaches the end of its streams).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _ownProducer?.Dispose();
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
