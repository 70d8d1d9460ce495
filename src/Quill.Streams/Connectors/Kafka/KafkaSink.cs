using Confluent.Kafka;
using Quill.Streams.Api;
using Quill.Streams.Runtime;

namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// Writes each record to a topic with its own producer per task (idempotent, acks=all), the record's timestamp as the
/// Kafka timestamp. Sends are asynchronous; a barrier or the end waits until everything sent is acknowledged (what
/// an at-least-once checkpoint needs), and a failed delivery fails the task at the next record or flush.
/// </summary>
internal sealed class KafkaSink<T> : IStreamInput<T>, IDisposable
{
    private readonly string _topic;
    private readonly Func<T, byte[]?> _key;
    private readonly Func<T, byte[]?> _value;
    private readonly CancellationToken _abort;
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly Action<DeliveryReport<byte[]?, byte[]?>> _onDelivery;
    private volatile Exception? _failure;
    private int _disposed;

    public KafkaSink(StreamJobOptions options, string topic, Func<T, byte[]?> key, Func<T, byte[]?> value, CancellationToken abort)
    {
        _topic = topic;
        _key = key;
        _value = value;
        _abort = abort;
        _producer = new ProducerBuilder<byte[]?, byte[]?>(KafkaClientConfigs.Producer(options)).Build();
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
        while (true)
        {
            try
            {
                _producer.Produce(_topic, message, _onDelivery);
                return ValueTask.CompletedTask;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's send queue is full: serve delivery reports until there is room.
                _abort.ThrowIfCancellationRequested();
                _producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    public ValueTask WatermarkAsync(long watermark) => ValueTask.CompletedTask;
    public ValueTask ProcessingTimeAsync(long now) => ValueTask.CompletedTask;

    public ValueTask BarrierAsync(long checkpointId)
    {
        Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask EndAsync()
    {
        Flush();
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Also called by the job when it ends (a failed job never reaches the end of its streams).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _producer.Dispose();
    }

    private void Flush()
    {
        while (_producer.Flush(TimeSpan.FromMilliseconds(500)) > 0) _abort.ThrowIfCancellationRequested();
        ThrowIfFailed();
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure) throw new InvalidOperationException($"writing to '{_topic}' failed: {failure.Message}", failure);
    }
}
