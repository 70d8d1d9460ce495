namespace Quill.Streams.Time;

/// <summary>
/// Timers of a keyed function, for the key being processed (Flink's TimerService). Times are milliseconds since the
/// Unix epoch. A key has at most one timer per timestamp and domain; registering it again does nothing. An event-time
/// timer fires once the watermark reaches its time, a processing-time timer once the task's clock does.
/// </summary>
public interface ITimerService
{
    long CurrentProcessingTime { get; }
    /// <summary>The last watermark this operator saw (long.MinValue before the first).</summary>
    long CurrentWatermark { get; }
    void RegisterEventTimeTimer(long time);
    void RegisterProcessingTimeTimer(long time);
    void DeleteEventTimeTimer(long time);
    void DeleteProcessingTimeTimer(long time);
}
