using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

/// <summary>
/// Where the coordinator keeps its records: the partitions of <c>__consumer_offsets</c>. The coordinator appends
/// one batch per change (a commit, a group's new state, tombstones) and replays every partition on start.
/// </summary>
public interface IOffsetsLog
{
    /// <summary>The number of partitions; a group lives in <see cref="OffsetsTopic.PartitionFor"/>.</summary>
    int PartitionCount { get; }

    /// <summary>Appends one record batch (magic 2) to a partition. Throws (e.g. <see cref="Log.LogException"/>) when it cannot.</summary>
    void Append(int partition, ReadOnlyMemory<byte> batch);

    /// <summary>Every batch of a partition, oldest first, for the replay on start.</summary>
    IEnumerable<RecordBatch> ReadAll(int partition);

    /// <summary>
    /// Completes once everything appended to <paramref name="partition"/> so far is replicated (acks=all: the high
    /// watermark covers it, with the ISR at least the topic's min.insync.replicas); to be called right after the
    /// append, on the same thread. NONE, or the error an acks=all produce would get (NOT_LEADER_OR_FOLLOWER,
    /// NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT). A log with no replicas completes at once.
    /// </summary>
    Task<Kafka.Protocol.KafkaError> WhenReplicatedAsync(int partition) => Task.FromResult(Kafka.Protocol.KafkaError.None);
}
