using System.Text.Json;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;
using Quill.Streams.HighAvailability;

namespace Quill.Streams.Cluster;

/// <summary>
/// The job's assignment in Keeper (<see cref="HaPaths.Assignment"/>, persistent): written by the leader only, each
/// write in a multi with the check of its latch node (as its other writes), so a leader that lost its session writes
/// none; watched by every instance.
/// </summary>
internal static class AssignmentZnode
{
    /// <summary>The assignment now in Keeper; null if none was ever written.</summary>
    public static async Task<Assignment?> ReadAsync(KeeperClient client, HaPaths paths, Action<WatchedEvent>? watch, CancellationToken cancellationToken)
    {
        try
        {
            var node = await client.GetDataAsync(paths.Assignment, watch, cancellationToken);
            return node.Data.Length == 0 ? null : Assignment.Parse(node.Data);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            // Watch for its creation instead.
            if (await client.ExistsAsync(paths.Assignment, watch, cancellationToken) is null) return null;
            return await ReadAsync(client, paths, watch, cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes the next generation (one past the one in Keeper), made by <paramref name="make"/> from its number.</summary>
    public static async Task<Assignment> WriteNextAsync(KeeperHaServices ha, Func<long, Assignment> make, CancellationToken cancellationToken)
    {
        return await KeeperRetry.IdempotentAsync(async () =>
        {
            Stat? stat = await ha.Client.ExistsAsync(ha.Paths.Assignment, cancellationToken: cancellationToken);
            var current = stat is null ? null : await ReadAsync(ha.Client, ha.Paths, null, cancellationToken);
            var next = make((current?.Generation ?? 0) + 1);
            byte[] data = next.ToBytes();
            if (stat is null) await ha.Client.MultiAsync([ha.Fence(), Op.Create(ha.Paths.Assignment, data)], cancellationToken);
            else await ha.Client.MultiAsync([ha.Fence(), Op.SetData(ha.Paths.Assignment, data, stat.Value.Version)], cancellationToken);
            return next;
        });
    }
}
