using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>A stream consumed by more than one transformation: every element goes to each of them, in order.</summary>
internal sealed class FanOut<T>(IReadOnlyList<IStreamInput<T>> outputs) : IStreamInput<T>
{
    public async ValueTask RecordAsync(T value, long timestamp)
    {
        foreach (var output in outputs) await output.RecordAsync(value, timestamp);
    }

    public async ValueTask WatermarkAsync(long watermark)
    {
        foreach (var output in outputs) await output.WatermarkAsync(watermark);
    }

    public async ValueTask WatermarkStatusAsync(WatermarkStatus status)
    {
        foreach (var output in outputs) await output.WatermarkStatusAsync(status);
    }

    public async ValueTask BarrierAsync(long checkpointId)
    {
        foreach (var output in outputs) await output.BarrierAsync(checkpointId);
    }

    public async ValueTask ProcessingTimeAsync(long now)
    {
        foreach (var output in outputs) await output.ProcessingTimeAsync(now);
    }

    public async ValueTask EndAsync()
    {
        foreach (var output in outputs) await output.EndAsync();
    }

    public async ValueTask TableLoadedAsync(int tableSenders)
    {
        foreach (var output in outputs) await output.TableLoadedAsync(tableSenders);
    }

    public async ValueTask FlushAsync()
    {
        foreach (var output in outputs) await output.FlushAsync();
    }
}
