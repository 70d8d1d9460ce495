using System.Text.Json;

namespace Quill.Streams.Checkpoints;

/// <summary>
/// One completed checkpoint: for each source, the next offset of every partition it had read; for each keyed operator,
/// the snapshot each of its tasks took when the barrier passed. Everything is as of the same cut of the streams
/// (aligned barriers), so restoring all of it and reading on from those offsets loses nothing.
/// </summary>
internal sealed class Checkpoint
{
    public long Id { get; set; }

    /// <summary>Source id -> "topic:partition" -> the next offset to read.</summary>
    public Dictionary<string, Dictionary<string, long>> SourceOffsets { get; set; } = [];

    /// <summary>Operator id -> the snapshot of each of its tasks (any parallelism: a task restores the keys it owns).</summary>
    public Dictionary<string, List<OperatorSnapshot>> Operators { get; set; } = [];
}

/// <summary>A keyed operator's state in one task, as JSON: each state's [key, value] pairs, and the timers as [key, time].</summary>
internal sealed class OperatorSnapshot
{
    public Dictionary<string, List<JsonElement[]>> States { get; set; } = [];
    public List<JsonElement[]> EventTimers { get; set; } = [];
    public List<JsonElement[]> ProcessingTimers { get; set; } = [];
}

/// <summary>How keys, state values and timers are written: System.Text.Json, fields included (tuples are fields).</summary>
internal static class StateJson
{
    public static readonly JsonSerializerOptions Options = new() { IncludeFields = true };

    public static JsonElement Write<T>(T value) => JsonSerializer.SerializeToElement(value, Options);

    public static T Read<T>(JsonElement element) => element.Deserialize<T>(Options)!;
}
