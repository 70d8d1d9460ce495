namespace Quill.Broker.Log;

/// <summary>Whether a topic deletes old segments, compacts them by key, or both (Kafka's cleanup.policy).</summary>
[Flags]
public enum CleanupPolicy
{
    Delete = 1,
    Compact = 2,
}

/// <summary>
/// Per-partition log settings, named after Kafka's topic configs (segment.bytes, retention.ms, ...).
/// Defaults are Kafka's. A value of -1 for a limit means "no limit", as in Kafka; <c>long.MaxValue</c> for
/// the flush settings means "leave it to the OS" (no fsync per append).
/// </summary>
public sealed record LogConfig
{
    /// <summary>segment.bytes: roll a new segment before the active one would exceed this.</summary>
    public int SegmentBytes { get; init; } = 1024 * 1024 * 1024;
    /// <summary>segment.ms: roll a non-empty segment this long after it was created.</summary>
    public long SegmentMs { get; init; } = 7L * 24 * 60 * 60 * 1000;
    /// <summary>segment.index.bytes: the largest an offset or time index may grow; a full index rolls the segment.</summary>
    public int SegmentIndexBytes { get; init; } = 10 * 1024 * 1024;
    /// <summary>index.interval.bytes: log bytes between two offset index entries.</summary>
    public int IndexIntervalBytes { get; init; } = 4096;
    /// <summary>retention.ms: delete segments whose newest record is older than this; -1 keeps forever.</summary>
    public long RetentionMs { get; init; } = 7L * 24 * 60 * 60 * 1000;
    /// <summary>retention.bytes: delete the oldest segments while the log is bigger than this; -1 for no limit.</summary>
    public long RetentionBytes { get; init; } = -1;
    /// <summary>max.message.bytes: the largest record batch accepted.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024 + 12;
    /// <summary>flush.messages: fsync after this many appended records (1 = every append).</summary>
    public long FlushMessages { get; init; } = long.MaxValue;
    /// <summary>flush.ms: fsync when the last flush is older than this (checked by <see cref="LogManager"/>).</summary>
    public long FlushMs { get; init; } = long.MaxValue;
    /// <summary>cleanup.policy.</summary>
    public CleanupPolicy CleanupPolicy { get; init; } = CleanupPolicy.Delete;
    /// <summary>delete.retention.ms: how long compaction keeps a tombstone so consumers can see the delete.</summary>
    public long DeleteRetentionMs { get; init; } = 24L * 60 * 60 * 1000;
    /// <summary>message.timestamp.type: LogAppendTime makes the broker stamp each batch with its append time.</summary>
    public bool LogAppendTime { get; init; }
    /// <summary>producer.id.expiration.ms: forget idle idempotent producers after this long.</summary>
    public long ProducerIdExpirationMs { get; init; } = 24L * 60 * 60 * 1000;
    /// <summary>file.delete.delay.ms: deleted segments keep their open files this long for in-flight reads.</summary>
    public long FileDeleteDelayMs { get; init; } = 60_000;
    /// <summary>
    /// compression.type: kept as given. The broker stores batches as produced (as Kafka does for "producer"); the value
    /// matters to Fetch, which refuses a zstd topic below v10 (clients that old cannot read zstd).
    /// </summary>
    public string CompressionType { get; init; } = "producer";
    /// <summary>message.downconversion.enable: whether Fetch below v4 gets the batches converted to magic 0/1 (else UNSUPPORTED_VERSION).</summary>
    public bool DownConversionEnable { get; init; } = true;
    /// <summary>min.insync.replicas: the ISR size an acks=all produce needs (NOT_ENOUGH_REPLICAS below it).</summary>
    public int MinInSyncReplicas { get; init; } = 1;

    public static LogConfig Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> for values Kafka would reject.</summary>
    public LogConfig Validate()
    {
        if (SegmentBytes < 14) throw new ArgumentException($"segment.bytes {SegmentBytes} is below the minimum 14");
        if (SegmentMs < 1) throw new ArgumentException($"segment.ms {SegmentMs} must be positive");
        if (SegmentIndexBytes < 8) throw new ArgumentException($"segment.index.bytes {SegmentIndexBytes} is below 8");
        if (IndexIntervalBytes < 0) throw new ArgumentException($"index.interval.bytes {IndexIntervalBytes} is negative");
        if (MaxMessageBytes < 0) throw new ArgumentException($"max.message.bytes {MaxMessageBytes} is negative");
        if (FlushMessages < 1) throw new ArgumentException($"flush.messages {FlushMessages} must be at least 1");
        if (FlushMs < 0) throw new ArgumentException($"flush.ms {FlushMs} is negative");
        if (DeleteRetentionMs < 0) throw new ArgumentException($"delete.retention.ms {DeleteRetentionMs} is negative");
        return this;
    }
}
