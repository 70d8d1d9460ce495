namespace Quill.Streams.Time;

/// <summary>
/// Windows of a fixed size starting every <see cref="Slide"/>, aligned to the epoch (Flink's SlidingEventTimeWindows):
/// with size 10 s and slide 5 s a record is in two windows; each window gets its own result.
/// </summary>
public sealed class SlidingEventTimeWindows : WindowAssigner
{
    private SlidingEventTimeWindows(long size, long slide)
    {
        Size = size;
        Slide = slide;
    }

    public long Size { get; }
    public long Slide { get; }

    public static SlidingEventTimeWindows Of(TimeSpan size, TimeSpan slide)
    {
        long sizeMs = Milliseconds(size, nameof(size)), slideMs = Milliseconds(slide, nameof(slide));
        if (slideMs > sizeMs) throw new ArgumentOutOfRangeException(nameof(slide), slide, "a slide longer than the size would leave records in no window");
        return new SlidingEventTimeWindows(sizeMs, slideMs);
    }

    /// <summary>Every window holding <paramref name="timestamp"/>, latest start first.</summary>
    public override IReadOnlyList<TimeWindow> AssignWindows(long timestamp)
    {
        var windows = new List<TimeWindow>((int)((Size + Slide - 1) / Slide));
        for (long start = AlignedStart(timestamp, Slide); start > timestamp - Size; start -= Slide)
            windows.Add(new TimeWindow(start, start + Size));
        return windows;
    }
}
