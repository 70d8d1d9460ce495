using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>
/// Writes down everything a task pushes into its chain, one line per element ("record v", or "record v@t" with
/// <paramref name="timestamps"/>; "watermark w", "status s", "barrier id", "table loaded n", "end").
/// </summary>
internal sealed class RecordingChain(bool timestamps = false) : IStreamInput<string>
{
    public List<string> Events { get; } = [];
    public ValueTask RecordAsync(string value, long timestamp) => Add(timestamps ? $"record {value}@{timestamp}" : $"record {value}");
    public ValueTask WatermarkAsync(long watermark) => Add($"watermark {watermark}");
    public ValueTask WatermarkStatusAsync(WatermarkStatus status) => Add($"status {status}");
    public ValueTask BarrierAsync(long checkpointId) => Add($"barrier {checkpointId}");
    public ValueTask ProcessingTimeAsync(long now) => ValueTask.CompletedTask;
    public ValueTask EndAsync() => Add("end");
    public ValueTask TableLoadedAsync(int tableSenders) => Add($"table loaded {tableSenders}");

    private ValueTask Add(string e)
    {
        Events.Add(e);
        return ValueTask.CompletedTask;
    }
}
