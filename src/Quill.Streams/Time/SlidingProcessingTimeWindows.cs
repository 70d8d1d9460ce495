namespace Quill.Streams.Time;

/// <summary>
/// Windows of processing time of a fixed size starting every <see cref="Slide"/>, aligned to the epoch (Flink's
/// SlidingProcessingTimeWindows): a record is in every window holding the task's clock when it comes.
/// </summary>
public sealed class SlidingProcessingTimeWindows : WindowAssigner
{
    private readonly SlidingEventTimeWindows _windows;

    private SlidingProcessingTimeWindows(SlidingEventTimeWindows windows) => _windows = windows;

    public long Size => _windows.Size;
    public long Slide => _windows.Slide;

    public static SlidingProcessingTimeWindows Of(TimeSpan size, TimeSpan slide) => new(SlidingEventTimeWindows.Of(size, slide));

    public override IReadOnlyList<TimeWindow> AssignWindows(long timestamp) => _windows.AssignWindows(timestamp);

    public override bool IsEventTime => false;
}
