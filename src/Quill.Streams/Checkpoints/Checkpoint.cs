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

    /// <summary>
    /// Exactly-once only: the transaction holding the output written before this checkpoint's barrier, pre-committed
    /// (flushed, still open) when the checkpoint was written and committed right after. Null for at-least-once.
    /// </summary>
    public OutputTransaction? Transaction { get; set; }

    /// <summary>The directory this checkpoint was read from: the state files it names are relative to it. Not written.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Directory { get; set; }
}

/// <summary>
/// A pre-committed output transaction: its producer's transactional id, and the marker it commits with it (an offset
/// stored in <see cref="MarkerGroup"/>), by which a restarted job tells whether the commit happened.
/// </summary>
internal sealed class OutputTransaction
{
    public string TransactionalId { get; set; } = "";
    public string MarkerGroup { get; set; } = "";
    /// <summary>
    /// The topic whose partition 0 carries the marker in <see cref="MarkerGroup"/> (null in checkpoints written before
    /// it was recorded: the job's first source topic). Recorded because it can change between runs: a source reading
    /// a topic pattern may match another first topic next time.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? MarkerTopic { get; set; }
    public long Marker { get; set; }
}

/// <summary>
/// A keyed operator's state in one task, as JSON: each state's [key, value] pairs, and the timers as [key, time]; or,
/// for state on disk, the file holding them (<see cref="File"/>, and the lists empty).
/// </summary>
internal sealed class OperatorSnapshot
{
    /// <summary>The task's state file (<see cref="StateFiles"/>), relative to the checkpoint's directory; null: the entries are here.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? File { get; set; }

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
