namespace Quill.Streams.Time;

/// <summary>
/// Fixed-size, non-overlapping windows of processing time (Flink's TumblingProcessingTimeWindows): a record is in the
/// window, aligned to the epoch, holding the task's clock when the record comes; the window fires when that clock
/// reaches its last millisecond. Its results carry that time.
/// </summary>
public sealed class TumblingProcessingTimeWindows : WindowAssigner
{
    private readonly TumblingEventTimeWindows _windows;

    private TumblingProcessingTimeWindows(TumblingEventTimeWindows windows) => _windows = windows;

    public long Size => _windows.Size;

    public static TumblingProcessingTimeWindows Of(TimeSpan size) => new(TumblingEventTimeWindows.Of(size));

    public override IReadOnlyList<TimeWindow> AssignWindows(long timestamp) => _windows.AssignWindows(timestamp);

    public override bool IsEventTime => false;
}
