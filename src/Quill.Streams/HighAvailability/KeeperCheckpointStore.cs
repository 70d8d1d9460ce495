using System.Text.Json;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.HighAvailability;

/// <summary>
/// Completed checkpoints of a highly available job (Flink's ZooKeeper completed checkpoint store): each checkpoint is
/// a file in the shared checkpoint directory, written (fsynced, renamed) first; then a pointer znode
/// <see cref="HaPaths.Checkpoint"/> is created, in a multi with the leader's fence, and only then is the checkpoint
/// complete. The newest <c>retained</c> are kept: older pointers are deleted, then their files. A standby that takes
/// over restores the newest pointer whose file it can read. A new leader's first load also removes the files a dead
/// leader wrote and never pointed to (<see cref="RemoveUnpointedFiles"/>). Savepoints taken by the job are listed under
/// <see cref="SavepointRequests.SavepointsPath"/> (<see cref="Add"/>).
/// </summary>
internal sealed class KeeperCheckpointStore(KeeperHaServices ha, CheckpointStorage files, int retained, Action<string>? log) : ICheckpointStore, ISavepointCatalog
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    /// <summary>The leader sessions that have cleaned up already: once per session, before it writes any checkpoint.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<KeeperHaServices, object> Cleaned = [];

    public void Write(Checkpoint checkpoint)
    {
        string file = files.PathOf(checkpoint.Id);
        CheckpointStorage.WriteFile(file, checkpoint);
        var pointer = new CheckpointPointer { Id = checkpoint.Id, Path = Path.GetFullPath(file), Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
        byte[] data = JsonSerializer.SerializeToUtf8Bytes(pointer, Json);
        KeeperRetry.Idempotent(async () =>
        {
            try
            {
                await ha.Client.MultiAsync([ha.Fence(), Op.Create(ha.Paths.Checkpoint(checkpoint.Id), data)]);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
            {
                // A try before a connection loss happened (only the leader creates pointers, each id once).
            }
            return true;
        });
        var ids = Ids();
        foreach (long old in ids.Take(Math.Max(0, ids.Count - retained))) Remove(old);
        files.RemoveAbandonedStateFiles(checkpoint.Id);
    }

    public void Delete(long id) => Remove(id);

    public string Directory => files.Directory;

    public Checkpoint? LoadLatest()
    {
        var ids = Ids();
        if (ids.Count > 0 && ha.Latch.HasLeadership && Cleaned.TryAdd(ha, new object())) RemoveUnpointedFiles(ids[^1]);
        foreach (long id in ids.AsEnumerable().Reverse())
        {
            string? path = null;
            try
            {
                var node = KeeperRetry.Idempotent(() => ha.Client.GetDataAsync(ha.Paths.Checkpoint(id)));
                path = JsonSerializer.Deserialize<CheckpointPointer>(node.Data, Json)?.Path ?? files.PathOf(id);
                return CheckpointStorage.ReadFile(path);
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or KeeperException { Code: ErrorCode.NoNode })
            {
                // Flink too goes on to an older checkpoint when the newest cannot be read.
                log?.Invoke($"checkpoint {id} ({path}) cannot be read, trying an older one: {e.Message}");
            }
        }
        return null;
    }

    /// <summary>
    /// Removes the checkpoint files (and temp files) in the directory with an id above <paramref name="newestPointed"/>:
    /// the last checkpoint of a leader that died (or lost its session) between writing the file and creating its
    /// pointer; no pointer can name it any more (the pointer is created in a multi with the dead leader's fence). Runs
    /// once per leader session, from its first load, before this leader has written anything; files at or below the
    /// newest pointer and anything not named chk-&lt;id&gt;.json[.tmp] (savepoint directories) are left alone.
    /// </summary>
    private void RemoveUnpointedFiles(long newestPointed)
    {
        if (!System.IO.Directory.Exists(files.Directory)) return;
        foreach (string file in System.IO.Directory.EnumerateFiles(files.Directory, CheckpointNames.Any))
        {
            if (!CheckpointNames.TryParse(Path.GetFileName(file), out long id) || id <= newestPointed) continue;
            try
            {
                StateFiles.DeleteCheckpoint(files.Directory, id);
                log?.Invoke($"removed {file}: checkpoint {id} was never completed (no pointer; the newest is {newestPointed})");
            }
            catch (IOException e)
            {
                log?.Invoke($"cannot remove the unpointed checkpoint file {file}: {e.Message}");
            }
        }
    }

    /// <summary>
    /// Lists a savepoint just written: a persistent <see cref="SavepointRequests.SavepointsPath"/>/&lt;id, 19 digits&gt;
    /// with JSON {id, path, timestamp} (a second savepoint of the same checkpoint gets "-2", and so on). Not fenced: the
    /// savepoint exists whoever leads now. A failure is logged; the savepoint stands.
    /// </summary>
    public void Add(long checkpointId, string path)
    {
        var entry = new SavepointEntry { Id = checkpointId, Path = path, Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() };
        byte[] data = JsonSerializer.SerializeToUtf8Bytes(entry, Json);
        string parent = SavepointRequests.SavepointsPath(ha.Paths);
        try
        {
            KeeperRetry.Idempotent(async () =>
            {
                await ha.Client.EnsurePathAsync(parent);
                for (int n = 1; ; n++)
                {
                    string node = $"{parent}/{checkpointId:D19}{(n == 1 ? "" : $"-{n}")}";
                    try
                    {
                        await ha.Client.CreateAsync(node, data);
                        return true;
                    }
                    catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
                    {
                        // Ours from a try before a connection loss, or another savepoint of the same checkpoint.
                        var existing = JsonSerializer.Deserialize<SavepointEntry>((await ha.Client.GetDataAsync(node)).Data, Json);
                        if (existing?.Path == path) return true;
                    }
                }
            });
        }
        catch (Exception e) when (e is KeeperException or TimeoutException or JsonException or ObjectDisposedException)
        {
            log?.Invoke($"savepoint {path} was written but could not be listed in Keeper: {e.Message}");
        }
    }

    /// <summary>The retained checkpoints' ids, oldest first.</summary>
    public List<long> Ids() =>
        [.. KeeperRetry.Idempotent(() => ha.Client.GetChildrenAsync(ha.Paths.Checkpoints)).Select(name => long.TryParse(name, out long id) ? id : -1).Where(id => id >= 0).Order()];

    /// <summary>The pointer first (a checkpoint without one is not complete), then the file.</summary>
    private void Remove(long id)
    {
        KeeperRetry.Idempotent(async () =>
        {
            try
            {
                await ha.Client.MultiAsync([ha.Fence(), Op.Delete(ha.Paths.Checkpoint(id))]);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                // Already gone (a try before a connection loss) is fine, as long as the fence itself holds.
                if (await ha.Client.ExistsAsync(ha.Fence().Path) is null) throw;
            }
            return true;
        });
        StateFiles.DeleteCheckpoint(files.Directory, id);
    }

}

/// <summary>What a checkpoint pointer znode holds (JSON).</summary>
public sealed class CheckpointPointer
{
    public long Id { get; set; }
    /// <summary>The checkpoint's file.</summary>
    public string Path { get; set; } = "";
    /// <summary>When it completed (Unix milliseconds).</summary>
    public long Timestamp { get; set; }
}

/// <summary>What a savepoint's znode under <c>&lt;root&gt;/&lt;job&gt;/savepoints</c> holds (JSON).</summary>
public sealed class SavepointEntry
{
    /// <summary>The id of the checkpoint the savepoint copies.</summary>
    public long Id { get; set; }
    /// <summary>The savepoint's directory (its _metadata file inside).</summary>
    public string Path { get; set; } = "";
    /// <summary>When it was written (Unix milliseconds).</summary>
    public long Timestamp { get; set; }
}
