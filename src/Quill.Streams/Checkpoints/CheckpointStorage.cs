using System.Text.Json;

namespace Quill.Streams.Checkpoints;

/// <summary>
/// Checkpoints as files in a directory, one per checkpoint (chk-&lt;id&gt;.json): written to a temp file, fsynced, then
/// renamed, so a crash leaves either the whole new file or none. The newest two are kept: under exactly-once a restart
/// falls back to the older one when the newest one's output transaction never committed.
/// </summary>
internal sealed class CheckpointStorage(string directory)
{
    private const int Retained = 2;

    public string Directory { get; } = directory;

    public void Write(Checkpoint checkpoint)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string path = Path.Combine(Directory, $"chk-{checkpoint.Id:D19}.json");
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, checkpoint, StateJson.Options);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        foreach (string old in Completed().Skip(Retained)) File.Delete(old);
    }

    /// <summary>Removes checkpoint <paramref name="id"/> (one whose output was never committed).</summary>
    public void Delete(long id) => File.Delete(Path.Combine(Directory, $"chk-{id:D19}.json"));

    /// <summary>The newest checkpoint, or null if there is none.</summary>
    public Checkpoint? LoadLatest()
    {
        string? newest = Completed().FirstOrDefault();
        if (newest is null) return null;
        using var file = File.OpenRead(newest);
        return JsonSerializer.Deserialize<Checkpoint>(file, StateJson.Options);
    }

    /// <summary>Completed checkpoint files, newest first (the id is zero-padded, so names sort by id).</summary>
    private IEnumerable<string> Completed() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.GetFiles(Directory, "chk-*.json").OrderDescending(StringComparer.Ordinal)
            : [];
}
