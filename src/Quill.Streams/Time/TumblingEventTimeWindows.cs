namespace Quill.Streams.Time;

/// <summary>
/// Fixed-size, non-overlapping windows of event time, aligned to the epoch: a record at t is in
/// [t - t mod size, t - t mod size + size).
/// </summary>
public sealed class TumblingEventTimeWindows
{
    private TumblingEventTimeWindows(long size) => Size = size;

    public long Size { get; }

    public static TumblingEventTimeWindows Of(TimeSpan size)
    {
        long ms = (long)size.TotalMilliseconds;
        if (ms <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "a window lasts at least 1 ms");
        return new TumblingEventTimeWindows(ms);
    }

    public TimeWindow WindowOf(long timestamp)
    {
        long start = timestamp - ((timestamp % Size) + Size) % Size; // floor, also before the epoch
        return new TimeWindow(start, start + Size);
    }
}
