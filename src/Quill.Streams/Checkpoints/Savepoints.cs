namespace Quill.Streams.Checkpoints;

/// <summary>
/// Savepoints (Flink's): a checkpoint taken on request and copied to a directory of its own,
/// <c>&lt;savepoint dir&gt;/savepoint-&lt;job&gt;-&lt;id&gt;-&lt;random&gt;/_metadata</c>, which nothing removes. Under exactly-once
/// the copy is written only after the checkpoint's output transaction committed, so a savepoint that exists is one
/// whose output is visible, and a job started from it neither loses nor repeats output.
/// </summary>
internal static class Savepoints
{
    public const string MetadataFile = "_metadata";

    /// <summary>
    /// Writes <paramref name="checkpoint"/> (as stored: state under operator names) as a savepoint, its state files
    /// copied from <paramref name="stateDirectory"/> (the checkpoint directory) first; returns its directory.
    /// </summary>
    public static string Write(string directory, string jobName, Checkpoint checkpoint, string? stateDirectory)
    {
        string safeJob = string.Concat(jobName.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        string path = Path.GetFullPath(Path.Combine(directory, $"savepoint-{safeJob}-{checkpoint.Id}-{Guid.NewGuid().ToString("N")[..6]}"));
        var copy = new Checkpoint
        {
            Id = checkpoint.Id,
            SourceOffsets = checkpoint.SourceOffsets,
            Operators = checkpoint.Operators,
            // Committed before this copy was written: a job started from it has nothing to check or fall back from.
            Transaction = null,
        };
        if (checkpoint.Operators.Values.Any(snapshots => snapshots.Any(s => s.File is not null)))
            StateFiles.Copy(checkpoint, stateDirectory ?? throw new InvalidOperationException("a checkpoint with state files has no directory"), path);
        CheckpointStorage.WriteFile(Path.Combine(path, MetadataFile), copy);
        return path;
    }

    /// <summary>Reads the savepoint at <paramref name="path"/>: its directory, or its metadata file (or any checkpoint file).</summary>
    public static Checkpoint Read(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, MetadataFile) : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"no savepoint at {path} (expected a savepoint directory with a {MetadataFile} file)", file);
        var checkpoint = CheckpointStorage.ReadFile(file);
        checkpoint.Transaction = null;
        return checkpoint;
    }
}

/// <summary>
/// A checkpoint store that also lists the job's savepoints (Keeper's, under high availability), told of each one once
/// it is written. Listing is for tools only: a failure to list is logged, never thrown, since the savepoint exists.
/// </summary>
internal interface ISavepointCatalog
{
    void Add(long checkpointId, string path);
}
