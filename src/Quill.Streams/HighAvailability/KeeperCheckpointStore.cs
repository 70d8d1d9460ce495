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
/// over restores the newest pointer whose file it can read. Files are never removed by name (a deposed leader's late
/// file is just not pointed to).
/// </summary>
internal sealed class KeeperCheckpointStore(KeeperHaServices ha, CheckpointStorage files, int retained, Action<string>? log) : ICheckpointStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

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
    }

    public void Delete(long id) => Remove(id);

    public Checkpoint? LoadLatest()
    {
        foreach (long id in Ids().AsEnumerable().Reverse())
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
        File.Delete(files.PathOf(id));
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
