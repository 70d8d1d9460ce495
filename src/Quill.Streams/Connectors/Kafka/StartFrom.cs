namespace Quill.Streams.Connectors.Kafka;

/// <summary>
/// Where a Kafka source starts reading each partition that a restored checkpoint has no offset for (Flink's
/// OffsetsInitializer). A source resolves it to an offset when it starts, so a checkpoint taken before the partition's
/// first record already holds where it starts, and a restore starts there, not from a new "latest".
/// </summary>
public sealed class StartFrom
{
    private enum Kind { Earliest, Latest, Committed, Timestamp }

    private readonly Kind _kind;

    private StartFrom(Kind kind, DateTimeOffset time = default)
    {
        _kind = kind;
        Time = time;
    }

    /// <summary>The first offset still in the log.</summary>
    public static StartFrom Earliest { get; } = new(Kind.Earliest);

    /// <summary>The end of the log when the job starts: only records written afterwards.</summary>
    public static StartFrom Latest { get; } = new(Kind.Latest);

    /// <summary>The offset the job's consumer group last committed; the earliest where there is none.</summary>
    public static StartFrom Committed { get; } = new(Kind.Committed);

    /// <summary>
    /// The first record whose timestamp is at or after <paramref name="time"/> (Kafka's offsets-for-times lookup), or the
    /// end of the log where no record is that late.
    /// </summary>
    public static StartFrom Timestamp(DateTimeOffset time) => new(Kind.Timestamp, time);

    internal bool IsEarliest => _kind == Kind.Earliest;
    internal bool IsLatest => _kind == Kind.Latest;
    internal bool IsCommitted => _kind == Kind.Committed;
    internal bool IsTimestamp => _kind == Kind.Timestamp;

    /// <summary>For <see cref="Timestamp"/>: the time to start at.</summary>
    public DateTimeOffset Time { get; }

    public override string ToString() => _kind == Kind.Timestamp ? $"Timestamp({Time:O})" : _kind.ToString();
}
