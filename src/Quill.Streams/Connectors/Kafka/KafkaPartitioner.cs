namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// Chooses the partition of the sink's topic each record goes to (Flink's FlinkKafkaPartitioner), given the record, its
/// key and value as the sink's serdes made them, the topic and its number of partitions. Without one, a sink leaves the
/// choice to the Kafka client (by the key's hash; records without a key spread over the partitions).
/// <para>
/// Each sink subtask works on its own copy (a shallow copy of this object), opened with <see cref="Open"/> before its
/// first record, so a partitioner may keep per-subtask fields. The partition count is looked up when the sink subtask
/// starts (the topic must exist by then) and kept for the run, as in Flink: partitions added later are used after a
/// restart. A partition outside 0 to count - 1 fails the job with an error naming the topic, the partition and the count.
/// </para>
/// </summary>
public abstract class KafkaPartitioner<T>
{
    /// <summary>
    /// Called once on the sink subtask's copy before its first record: <paramref name="subtask"/> is the index of the
    /// task the sink is chained into (0 to <paramref name="parallelism"/> - 1), as Flink's parallelInstanceId.
    /// </summary>
    public virtual void Open(int subtask, int parallelism)
    {
    }

    /// <summary>
    /// The partition for <paramref name="record"/>, from 0 to <paramref name="partitionCount"/> - 1.
    /// <paramref name="key"/> and <paramref name="value"/> are the serialized bytes the sink writes (null for a null key).
    /// </summary>
    public abstract int Partition(T record, byte[]? key, byte[]? value, string topic, int partitionCount);

    /// <summary>This partitioner's copy for one sink subtask, opened.</summary>
    internal KafkaPartitioner<T> OpenFor(int subtask, int parallelism)
    {
        var copy = (KafkaPartitioner<T>)MemberwiseClone();
        copy.Open(subtask, parallelism);
        return copy;
    }
}

/// <summary>The built-in partitioners.</summary>
public static class KafkaPartitioner
{
    /// <summary>
    /// Every record of sink subtask i goes to partition i mod the partition count (Flink's FlinkFixedPartitioner): with
    /// fewer subtasks than partitions some partitions get nothing, with more several subtasks share one.
    /// </summary>
    public static KafkaPartitioner<T> Fixed<T>() => new FixedPartitioner<T>();

    /// <summary>
    /// The partition <paramref name="select"/> gives for a record and the topic's partition count. Every sink subtask
    /// calls the same function, each on its own thread: state it captures must be safe for that (a subclass of
    /// <see cref="KafkaPartitioner{T}"/> gets a copy per subtask instead).
    /// </summary>
    public static KafkaPartitioner<T> Of<T>(Func<T, int, int> select)
    {
        ArgumentNullException.ThrowIfNull(select);
        return new FunctionPartitioner<T>(select);
    }

    private sealed class FixedPartitioner<T> : KafkaPartitioner<T>
    {
        private int _subtask;

        public override void Open(int subtask, int parallelism) => _subtask = subtask;

        public override int Partition(T record, byte[]? key, byte[]? value, string topic, int partitionCount) => _subtask % partitionCount;
    }

    private sealed class FunctionPartitioner<T>(Func<T, int, int> select) : KafkaPartitioner<T>
    {
        public override int Partition(T record, byte[]? key, byte[]? value, string topic, int partitionCount) => select(record, partitionCount);
    }
}
