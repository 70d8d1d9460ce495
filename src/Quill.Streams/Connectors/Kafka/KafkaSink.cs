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
/// <para>
/// The partition: the Kafka client's choice (by the key's hash), or, with a <see cref="KafkaPartitioner{T}"/>, the one it
/// chooses from the topic's partition count. The count is looked up when the sink is built (each run, each sink subtask:
/// a restart looks again) and the first record waits for it. It is not refreshed while the job runs, as in Flink: the
/// partitions a topic gains later are used after a restart. A partition outside 0 to count - 1 fails the task with an
/// error naming the topic, the partition and the count, rather than losing the record. The chosen partition travels
/// with the record on every path (a follower's forwarded records included), so it is where the record lands.
/// </para>
/// </summary>
internal sealed class KafkaSink<T> : IStreamInput<T>, IDisposable
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(30);
    private readonly string _topic;
    /// <summary>The topic, the partition left to the Kafka client.</summary>
    private readonly TopicPartition _anyPartition;
    /// <summary>Null when the Kafka client chooses the partition.</summary>
    private readonly KafkaPartitioner<T>? _partitioner;
    /// <summary>With a partitioner: the topic's partition count, looked up when the sink is built.</summary>
    private readonly Task<int>? _partitionCount;
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
        ExactlyOnceOutput? exactlyOnce, KafkaPartitioner<T>? partitioner = null)
    {
        _topic = topic;
        _anyPartition = new TopicPartition(topic, Partition.Any);
        _partitioner = partitioner;
        if (partitioner is not null)
        {
            _partitionCount = Task.Run(() => PartitionCount(options, topic, abort), abort);
            // Observed here too: a sink that never gets a record never awaits it.
            _partitionCount.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
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
        if (_partitioner is null) return WriteAsync(_anyPartition, message);
        if (!_partitionCount!.IsCompletedSuccessfully) return WriteWhenCountedAsync(value, message);
        return WriteAsync(Target(value, message, _partitionCount.Result), message);
    }

    /// <summary>The first records: they wait for the partition count (or fail with its lookup).</summary>
    private async ValueTask WriteWhenCountedAsync(T value, Message<byte[]?, byte[]?> message)
    {
        int count = await _partitionCount!;
        await WriteAsync(Target(value, message, count), message);
    }

    /// <summary>The partition the partitioner chooses, which must be one the topic has.</summary>
    private TopicPartition Target(T value, Message<byte[]?, byte[]?> message, int count)
    {
        int partition = _partitioner!.Partition(value, message.Key, message.Value, _topic, count);
        if ((uint)partition >= (uint)count)
            throw new InvalidOperationException($"the sink's partitioner chose partition {partition} of topic '{_topic}', which has {count} "
                + $"partitions (0 to {count - 1}; counted when the sink started)");
        return new TopicPartition(_topic, partition);
    }

    private ValueTask WriteAsync(TopicPartition target, Message<byte[]?, byte[]?> message)
    {
        if (_exactlyOnce is not null) return _exactlyOnce.ProduceAsync(target, message, _onDelivery);
        _ownProducer!.ProduceWaiting(target, message, _onDelivery, _abort);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// How many partitions <paramref name="topic"/> has, from the brokers' metadata; retried while they do not know the
    /// topic or its partitions (just created, a leader being elected) up to a deadline. The topic must exist: a metadata
    /// request from an admin client does not create it.
    /// </summary>
    private static int PartitionCount(StreamJobOptions options, string topic, CancellationToken abort)
    {
        using var admin = new AdminClientBuilder(KafkaClientConfigs.Admin(options)).Build();
        var deadline = DateTime.UtcNow + MetadataTimeout;
        while (true)
        {
            var metadata = admin.GetMetadata(topic, MetadataTimeout).Topics.Single(t => t.Topic == topic);
            if (!metadata.Error.IsError && metadata.Partitions.Count > 0) return metadata.Partitions.Count;
            if (DateTime.UtcNow > deadline)
            {
                string reason = metadata.Error.Code == ErrorCode.UnknownTopicOrPart
                    ? "it does not exist (a sink with a partitioner needs the topic's partition count: create the topic first)"
                    : metadata.Error.IsError ? metadata.Error.Reason : "the brokers list no partitions for it";
                throw new KafkaException(new Error(metadata.Error.Code, $"looking up the partitions of the sink's topic '{topic}' failed: {reason}"));
            }
            // The job's abort ends the wait (and the admin client with it).
            if (abort.WaitHandle.WaitOne(200)) abort.ThrowIfCancellationRequested();
        }
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
    public static void ProduceWaiting(this IProducer<byte[]?, byte[]?> producer, TopicPartition target, Message<byte[]?, byte[]?> message,
        Action<DeliveryReport<byte[]?, byte[]?>>? onDelivery, CancellationToken abort)
    {
        while (true)
        {
            try
            {
                producer.Produce(target, message, onDelivery);
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
