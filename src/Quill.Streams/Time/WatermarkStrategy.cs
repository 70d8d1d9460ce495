namespace Quill.Streams.Time;

/// <summary>
/// How a source gives its records event time: a timestamp per record (by default the Kafka record's timestamp), and
/// watermarks that trail the highest timestamp seen by a bound on how late records may come (Flink's
/// forBoundedOutOfOrderness: watermark = max timestamp - bound - 1). Each source partition has its own watermark; a
/// source task passes on the minimum over its partitions, so a partition with no records holds event time back.
/// </summary>
public sealed class WatermarkStrategy<T>
{
    private WatermarkStrategy(TimeSpan maxOutOfOrderness, Func<T, long, long>? timestampAssigner)
    {
        if (maxOutOfOrderness < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(maxOutOfOrderness));
        MaxOutOfOrderness = maxOutOfOrderness;
        TimestampAssigner = timestampAssigner;
    }

    public TimeSpan MaxOutOfOrderness { get; }

    /// <summary>(record, the Kafka timestamp) -> event time in ms; null keeps the Kafka timestamp.</summary>
    public Func<T, long, long>? TimestampAssigner { get; }

    public static WatermarkStrategy<T> ForBoundedOutOfOrderness(TimeSpan maxOutOfOrderness) => new(maxOutOfOrderness, null);

    public static WatermarkStrategy<T> ForMonotonousTimestamps() => new(TimeSpan.Zero, null);

    public WatermarkStrategy<T> WithTimestampAssigner(Func<T, long, long> assigner) => new(MaxOutOfOrderness, assigner);

    internal long WatermarkFor(long maxTimestamp) =>
        maxTimestamp == long.MinValue ? long.MinValue : maxTimestamp - (long)MaxOutOfOrderness.TotalMilliseconds - 1;
}
