namespace Quill.Broker.Groups;

/// <summary>
/// The group coordinator's settings, named after Kafka's broker configs. Defaults are Kafka's, except that a
/// single broker may run fewer <c>__consumer_offsets</c> partitions (the count comes from the offsets log).
/// </summary>
public sealed record GroupCoordinatorOptions
{
    /// <summary>group.initial.rebalance.delay.ms: how long a new (empty) group waits for more members before its first rebalance completes.</summary>
    public int InitialRebalanceDelayMs { get; init; } = 3000;
    /// <summary>group.min.session.timeout.ms.</summary>
    public int MinSessionTimeoutMs { get; init; } = 6000;
    /// <summary>group.max.session.timeout.ms.</summary>
    public int MaxSessionTimeoutMs { get; init; } = 1_800_000;
    /// <summary>group.max.size: members a group may have.</summary>
    public int MaxGroupSize { get; init; } = int.MaxValue;
    /// <summary>offset.metadata.max.bytes: the longest metadata string an offset commit may carry.</summary>
    public int OffsetMetadataMaxBytes { get; init; } = 4096;
    /// <summary>offsets.retention.minutes, in ms: committed offsets of an empty group are kept this long.</summary>
    public long OffsetsRetentionMs { get; init; } = 7L * 24 * 60 * 60 * 1000;
    /// <summary>offsets.retention.check.interval.ms.</summary>
    public long OffsetsRetentionCheckIntervalMs { get; init; } = 600_000;
    /// <summary>A new member that joins but never completes the join round is dropped after this long (Kafka's fixed 5 minutes).</summary>
    public int NewMemberJoinTimeoutMs { get; init; } = 300_000;

    public GroupCoordinatorOptions Validate()
    {
        if (InitialRebalanceDelayMs < 0) throw new ArgumentException($"group.initial.rebalance.delay.ms {InitialRebalanceDelayMs} is negative");
        if (MinSessionTimeoutMs < 0 || MaxSessionTimeoutMs < MinSessionTimeoutMs)
            throw new ArgumentException($"group.min.session.timeout.ms {MinSessionTimeoutMs} and group.max.session.timeout.ms {MaxSessionTimeoutMs} are inconsistent");
        if (MaxGroupSize < 1) throw new ArgumentException($"group.max.size {MaxGroupSize} must be at least 1");
        if (OffsetMetadataMaxBytes < 0) throw new ArgumentException($"offset.metadata.max.bytes {OffsetMetadataMaxBytes} is negative");
        if (OffsetsRetentionMs < 1) throw new ArgumentException($"offsets.retention.minutes must be positive");
        if (OffsetsRetentionCheckIntervalMs < 1) throw new ArgumentException($"offsets.retention.check.interval.ms {OffsetsRetentionCheckIntervalMs} must be positive");
        return this;
    }
}
