namespace Quill.Streams.Time;

/// <summary>Which clock a timer follows: event time (watermarks) or the task's wall clock.</summary>
public enum TimeDomain
{
    EventTime,
    ProcessingTime,
}
