using System.Text.Json;

namespace Quill.Streams.Checkpoints;

/// <summary>
/// Checkpoints as files in a directory, one per checkpoint (chk-&lt;id&gt;.json): written to a temp file, fsynced, then
/// renamed, so a crash leaves either the whole new file or none. The newest <c>retained</c> (default two) are kept:
/// under exactly-once a restart falls back to the older one when the newest one's output transaction never committed.
/// With <c>retained</c> null nothing is removed here: the Keeper store decides (by its pointers) what is kept. A
/// checkpoint's state files (<see cref="StateFiles"/>, chk-&lt;id&gt;.state/) go with its file.
/// </summary>
internal sealed class CheckpointStorage(string directory, int? retained = 2) : ICheckpointStore
{
    public string Directory { get; } = directory;

    /// <summary>Where checkpoint <paramref name="id"/>'s file is.</summary>
    public string PathOf(long id) => Path.Combine(Directory, CheckpointNames.File(id));

    public void Write(Checkpoint checkpoint)
    {
        WriteFile(PathOf(checkpoint.Id), checkpoint);
        if (retained is { } count)
            foreach (long old in Completed().Skip(count)) StateFiles.DeleteCheckpoint(Directory, old);
        RemoveAbandonedStateFiles(checkpoint.Id);
    }

    /// <summary>
    /// State files of checkpoints below <paramref name="completed"/> that never completed (no chk file: a task wrote
    /// its file, then the checkpoint was aborted or the process died). One checkpoint is taken at a time, so nothing
    /// below a completed one is still being written by this job.
    /// </summary>
    public void RemoveAbandonedStateFiles(long completed)
    {
        foreach (string states in System.IO.Directory.EnumerateDirectories(Directory, CheckpointNames.StateDirectories))
        {
            if (!CheckpointNames.TryParse(Path.GetFileName(states), out long id) || id >= completed || File.Exists(PathOf(id))) continue;
            try
            {
                System.IO.Directory.Delete(states, recursive: true);
            }
            catch (IOException)
            {
                // Tried again after the next checkpoint.
            }
        }
    }

    /// <summary>Writes <paramref name="checkpoint"/> to <paramref name="path"/>: a temp file, fsynced, then renamed.</summary>
    public static void WriteFile(string path, Checkpoint checkpoint)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, checkpoint, StateJson.Options);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    public static Checkpoint ReadFile(string path)
    {
        using var file = File.OpenRead(path);
        var checkpoint = JsonSerializer.Deserialize<Checkpoint>(file, StateJson.Options)
            ?? throw new InvalidDataException($"{path} holds no checkpoint");
        checkpoint.Directory = Path.GetDirectoryName(Path.GetFullPath(path));
        return checkpoint;
    }

    /// <summary>Removes checkpoint <paramref name="id"/> (one whose output was never committed).</summary>
    public void Delete(long id) => StateFiles.DeleteCheckpoint(Directory, id);

    /// <summary>The newest checkpoint, or null if there is none.</summary>
    public Checkpoint? LoadLatest()
    {
        foreach (long newest in Completed()) return ReadFile(PathOf(newest));
        return null;
    }

    /// <summary>The ids of the completed checkpoint files, newest first.</summary>
    private IEnumerable<long> Completed() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, CheckpointNames.Files)
                .Select(path => CheckpointNames.TryParse(Path.GetFileName(path), out long id) ? id : -1).Where(id => id >= 0).OrderDescending()
            : [];
}
