namespace Quill.Streams.Time;

/// <summary>
/// Whether an input sends watermarks (Flink's WatermarkStatus): an idle input (a source with no records for its
/// strategy's idleness) does not hold back the minimum watermark of the task it feeds until it is active again.
/// </summary>
public enum WatermarkStatus
{
    Active,
    Idle,
}
