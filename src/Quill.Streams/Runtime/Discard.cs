using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>Where a stream that feeds nothing goes.</summary>
internal sealed class Discard<T> : IStreamInput<T>
{
    public ValueTask RecordAsync(T value, long timestamp) => ValueTask.CompletedTask;
    public ValueTask WatermarkAsync(long watermark) => ValueTask.CompletedTask;
    public ValueTask WatermarkStatusAsync(WatermarkStatus status) => ValueTask.CompletedTask;
    public ValueTask BarrierAsync(long checkpointId) => ValueTask.CompletedTask;
    public ValueTask ProcessingTimeAsync(long now) => ValueTask.CompletedTask;
    public ValueTask EndAsync() => ValueTask.CompletedTask;
}
