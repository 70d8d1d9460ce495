using Quill.Streams.Checkpoints;

namespace Quill.Streams.Cluster;

/// <summary>
/// What the tasks of a follower report for a checkpoint, sent on to the leader's coordinator (which alone completes
/// checkpoints): a source's offsets, a keyed operator's snapshot, a task's acknowledgement. In the order the tasks
/// report them, over one connection, so an acknowledgement never overtakes the snapshot before it.
/// </summary>
internal interface ICheckpointRelay
{
    void SourceOffsets(long checkpointId, string sourceId, IEnumerable<KeyValuePair<string, long>> offsets);

    void OperatorSnapshot(long checkpointId, string operatorId, OperatorSnapshot snapshot);

    void Acknowledge(long checkpointId);
}

/// <summary>The kinds of control messages.</summary>
internal static class ControlTypes
{
    /// <summary>Leader to follower: inject checkpoint Id's barrier.</summary>
    public const string Barrier = "barrier";
    /// <summary>Follower to leader: a source's offsets for checkpoint Id.</summary>
    public const string Offsets = "offsets";
    /// <summary>Follower to leader: a keyed operator's snapshot in one task, for checkpoint Id.</summary>
    public const string Snapshot = "snapshot";
    /// <summary>Follower to leader: a task passed checkpoint Id's barrier.</summary>
    public const string Ack = "ack";
    /// <summary>Leader to follower: checkpoint Id completed (Sources: its offsets), so at-least-once sources commit them.</summary>
    public const string Completed = "completed";
    /// <summary>Follower to leader: its part of the generation failed (Error).</summary>
    public const string Failed = "failed";
}

/// <summary>One message of a control connection (JSON frame): by <see cref="Type"/> (<see cref="ControlTypes"/>), the fields it uses.</summary>
internal sealed class ControlMessage
{
    public string Type { get; set; } = "";
    public long Id { get; set; }
    public string? Source { get; set; }
    public Dictionary<string, long>? Offsets { get; set; }
    public Dictionary<string, Dictionary<string, long>>? Sources { get; set; }
    public string? Operator { get; set; }
    public OperatorSnapshot? Snapshot { get; set; }
    public string? Error { get; set; }
}
