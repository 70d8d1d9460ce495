namespace Quill.Streams.Time;

/// <summary>
/// Which windows a record belongs to (Flink's WindowAssigner): by event time, <see cref="TumblingEventTimeWindows"/>,
/// <see cref="SlidingEventTimeWindows"/>, <see cref="EventTimeSessionWindows"/>; by the task's clock when the record
/// comes, <see cref="TumblingProcessingTimeWindows"/>, <see cref="SlidingProcessingTimeWindows"/>,
/// <see cref="ProcessingTimeSessionWindows"/>.
/// </summary>
public abstract class WindowAssigner
{
    private protected WindowAssigner()
    {
    }

    /// <summary>The windows of a record at <paramref name="timestamp"/>.</summary>
    public abstract IReadOnlyList<TimeWindow> AssignWindows(long timestamp);

    /// <summary>True for session windows: a record's window merges with the key's windows it intersects.</summary>
    public virtual bool IsMerging => false;

    /// <summary>
    /// True for event-time windows (timestamps from the records, fired by the watermark); false for processing-time
    /// ones (the task's clock when the record comes, fired by processing-time timers; no watermarks needed).
    /// </summary>
    public virtual bool IsEventTime => true;

    private protected static long Milliseconds(TimeSpan span, string name)
    {
        long ms = (long)span.TotalMilliseconds;
        if (ms <= 0) throw new ArgumentOutOfRangeException(name, span, "must be at least 1 ms");
        return ms;
    }

    /// <summary>The start of the window of length <paramref name="step"/> holding <paramref name="timestamp"/>, windows aligned to the epoch.</summary>
    private protected static long AlignedStart(long timestamp, long step) => timestamp - ((timestamp % step) + step) % step; // floor, also before the epoch
}
