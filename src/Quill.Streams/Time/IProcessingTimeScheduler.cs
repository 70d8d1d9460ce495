namespace Quill.Streams.Time;

/// <summary>
/// A task's clock: operators ask to be woken at a time, and the task then pushes
/// <see cref="Runtime.IStreamInput{T}.ProcessingTimeAsync"/> through its chain from its own loop, so timers run on the
/// task like records do (Flink's mailbox).
/// </summary>
public interface IProcessingTimeScheduler
{
    long Now { get; }
    void RequestTick(long time);
}
