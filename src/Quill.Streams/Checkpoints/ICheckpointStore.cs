namespace Quill.Streams.Checkpoints;

/// <summary>
/// Where a job's completed checkpoints are kept (Flink's CompletedCheckpointStore): files in a directory
/// (<see cref="CheckpointStorage"/>), or files with a pointer per checkpoint in Keeper under high availability.
/// A checkpoint is completed once <see cref="Write"/> returns; the oldest beyond the retained count are removed.
/// </summary>
internal interface ICheckpointStore
{
    void Write(Checkpoint checkpoint);

    /// <summary>The directory the checkpoint files are written to (state files are relative to it).</summary>
    string Directory { get; }

    /// <summary>Removes checkpoint <paramref name="id"/> (one whose output was never committed).</summary>
    void Delete(long id);

    /// <summary>The newest completed checkpoint, or null if there is none.</summary>
    Checkpoint? LoadLatest();
}

/// <summary>Gives checkpoint ids: each once, increasing (Flink's CheckpointIDCounter).</summary>
internal interface ICheckpointIdCounter
{
    /// <summary>The id the next call to <see cref="Next"/> returns.</summary>
    long Peek();

    long Next();
}

/// <summary>The counter of a job that runs alone: the ids go on from the restored checkpoint's.</summary>
internal sealed class LocalCheckpointIdCounter(long next) : ICheckpointIdCounter
{
    private long _next = next;

    public long Peek() => Interlocked.Read(ref _next);

    public long Next() => Interlocked.Increment(ref _next) - 1;
}
