namespace Quill.Streams.Time;

/// <summary>
/// Session windows of processing time (Flink's ProcessingTimeSessionWindows): a record opens [now, now + gap) on the
/// task's clock, merged with the key's windows it overlaps or touches, so a session ends when its key has had no
/// record for the gap.
/// </summary>
public sealed class ProcessingTimeSessionWindows : WindowAssigner
{
    private ProcessingTimeSessionWindows(long gap) => Gap = gap;

    public long Gap { get; }

    public static ProcessingTimeSessionWindows WithGap(TimeSpan gap) => new(Milliseconds(gap, nameof(gap)));

    public override IReadOnlyList<TimeWindow> AssignWindows(long timestamp) => [new TimeWindow(timestamp, timestamp + Gap)];

    public override bool IsMerging => true;

    public override bool IsEventTime => false;
}
