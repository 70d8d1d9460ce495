namespace Quill.Streams.Time;

/// <summary>
/// Session windows (Flink's EventTimeSessionWindows): a record at t opens [t, t + gap); a key's windows that overlap or
/// touch merge into one, their accumulators merged, so a session ends after a gap with no records of its key.
/// </summary>
public sealed class EventTimeSessionWindows : WindowAssigner
{
    private EventTimeSessionWindows(long gap) => Gap = gap;

    public long Gap { get; }

    public static EventTimeSessionWindows WithGap(TimeSpan gap) => new(Milliseconds(gap, nameof(gap)));

    public override IReadOnlyList<TimeWindow> AssignWindows(long timestamp) => [new TimeWindow(timestamp, timestamp + Gap)];

    public override bool IsMerging => true;
}
