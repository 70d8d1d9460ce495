namespace Quill.Streams.Time;

/// <summary>
/// How a source gives its records event time: a timestamp per record (by default the Kafka record's timestamp), and
/// watermarks that trail the highest timestamp seen by a bound on how late records may come (Flink's
/// forBoundedOutOfOrderness: watermark = max timestamp - bound - 1). Each source partition has its own watermark; a
/// source task passes on the minimum over its partitions, so a partition with no records holds event time back, unless
/// the strategy has an idleness (<see cref="WithIdleness"/>).
/// </summary>
public sealed class WatermarkStrategy<T>
{
    private WatermarkStrategy(TimeSpan maxOutOfOrderness, Func<T, long, long>? timestampAssigner, TimeSpan? idleness)
    {
        if (maxOutOfOrderness < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(maxOutOfOrderness));
        if (idleness < TimeSpan.FromMilliseconds(1)) throw new ArgumentOutOfRangeException(nameof(idleness), idleness, "must be at least 1 ms");
        MaxOutOfOrderness = maxOutOfOrderness;
        TimestampAssigner = timestampAssigner;
        Idleness = idleness;
    }

    public TimeSpan MaxOutOfOrderness { get; }

    /// <summary>(record, the Kafka timestamp) -> event time in ms; null keeps the Kafka timestamp.</summary>
    public Func<T, long, long>? TimestampAssigner { get; }

    /// <summary>How long a partition goes without records before it is idle (null: never).</summary>
    public TimeSpan? Idleness { get; }

    public static WatermarkStrategy<T> ForBoundedOutOfOrderness(TimeSpan maxOutOfOrderness) => new(maxOutOfOrderness, null, null);

    public static WatermarkStrategy<T> ForMonotonousTimestamps() => new(TimeSpan.Zero, null, null);

    public WatermarkStrategy<T> WithTimestampAssigner(Func<T, long, long> assigner) => new(MaxOutOfOrderness, assigner, Idleness);

    /// <summary>
    /// Flink's withIdleness: a source partition that has had no records for <paramref name="idleness"/> (processing
    /// time) no longer holds the watermark back; when records come again it counts again. A source task whose
    /// partitions are all idle marks itself idle downstream, so the tasks it feeds go on with their other inputs.
    /// </summary>
    public WatermarkStrategy<T> WithIdleness(TimeSpan idleness) => new(MaxOutOfOrderness, TimestampAssigner, idleness);

    internal long WatermarkFor(long maxTimestamp) =>
        maxTimestamp == long.MinValue ? long.MinValue : maxTimestamp - (long)MaxOutOfOrderness.TotalMilliseconds - 1;
}
