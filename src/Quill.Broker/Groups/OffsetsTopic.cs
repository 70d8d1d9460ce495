using Quill.Broker.Log;

namespace Quill.Broker.Groups;

/// <summary>Facts about the internal topic <c>__consumer_offsets</c>, where groups and committed offsets live.</summary>
public static class OffsetsTopic
{
    public const string Name = "__consumer_offsets";
    /// <summary>offsets.topic.num.partitions' default.</summary>
    public const int DefaultPartitionCount = 50;
    /// <summary>offsets.topic.segment.bytes' default: smaller segments than data topics so compaction has work to do.</summary>
    public const int DefaultSegmentBytes = 100 * 1024 * 1024;
    /// <summary>offsets.commit.timeout.ms' default: how long a coordinator's write waits for its followers before it fails.</summary>
    public static readonly TimeSpan CommitTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The partition that holds a group, as Kafka places it: abs(Java's String.hashCode(groupId)) modulo the
    /// partition count, so the same group lands on the same partition number as it would in Kafka.
    /// </summary>
    public static int PartitionFor(string groupId, int partitionCount)
    {
        int hash = 0;
        foreach (char c in groupId) hash = unchecked(31 * hash + c);
        int abs = hash == int.MinValue ? 0 : Math.Abs(hash);
        return abs % partitionCount;
    }

    /// <summary>The log settings of the topic: compacted (the latest record per key survives), Kafka's offsets segment size.</summary>
    public static LogConfig LogConfig(LogConfig brokerDefaults) =>
        brokerDefaults with { CleanupPolicy = CleanupPolicy.Compact, SegmentBytes = DefaultSegmentBytes };
}
