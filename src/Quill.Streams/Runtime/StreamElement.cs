namespace Quill.Streams.Runtime;

public enum ElementKind
{
    Record,
    Watermark,
    /// <summary>The sender went idle or is active again (the marker: a Time.WatermarkStatus).</summary>
    WatermarkStatus,
    Barrier,
    End,
    /// <summary>The task's own processing-time timer fired (never sent between tasks).</summary>
    ProcessingTimeTick,
}

/// <summary>
/// One element on a channel between tasks: a record with its timestamp, or a control element. <see cref="Marker"/> is
/// the watermark, the watermark status, the checkpoint id or the tick's time; <see cref="Sender"/> the upstream subtask it came from, so the
/// receiving task can take the minimum watermark and align barriers per input.
/// </summary>
public readonly record struct StreamElement<T>(ElementKind Kind, T Value, long Timestamp, long Marker, int Sender)
{
    public static StreamElement<T> Record(T value, long timestamp, int sender) => new(ElementKind.Record, value, timestamp, 0, sender);
    public static StreamElement<T> Control(ElementKind kind, long marker, int sender) => new(kind, default!, 0, marker, sender);
}
