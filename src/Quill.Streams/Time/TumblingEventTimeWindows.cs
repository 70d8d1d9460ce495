namespace Quill.Streams.Time;

/// <summary>
/// Fixed-size, non-overlapping windows of event time, aligned to the epoch: a record at t is in
/// [t - t mod size, t - t mod size + size).
/// </summary>
public sealed class TumblingEventTimeWindows : WindowAssigner
{
    private TumblingEventTimeWindows(long size) => Size = size;

    public long Size { get; }

    public static TumblingEventTimeWindows Of(TimeSpan size) => new(Milliseconds(size, nameof(size)));

    public TimeWindow WindowOf(long timestamp)
    {
        long start = AlignedStart(timestamp, Size);
        return new TimeWindow(start, start + Size);
    }

    public override IReadOnlyList<TimeWindow> AssignWindows(long timestamp) => [WindowOf(timestamp)];
}
