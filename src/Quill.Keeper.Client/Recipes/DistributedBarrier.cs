using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// A barrier (Curator's DistributedBarrier): while the barrier node exists, <see cref="WaitOnBarrierAsync"/> waits;
/// removing it releases every waiter at once.
/// </summary>
public sealed class DistributedBarrier(KeeperClient client, string barrierPath)
{
    public string BarrierPath { get; } = barrierPath;

    /// <summary>Raises the barrier (creating its parents if needed); fine if it is already up.</summary>
    public async Task SetBarrierAsync(CancellationToken cancellationToken = default)
    {
        await client.EnsurePathAsync(PathUtils.Parent(BarrierPath), cancellationToken);
        try
        {
            await client.CreateAsync(BarrierPath, null, cancellationToken: cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
        {
            // Up already.
        }
    }

    /// <summary>Lowers the barrier, releasing the waiters.</summary>
    public Task RemoveBarrierAsync(CancellationToken cancellationToken = default) =>
        client.DeleteIfExistsAsync(BarrierPath, cancellationToken);

    /// <summary>Completes once the barrier is down (at once if it is not up).</summary>
    public async Task WaitOnBarrierAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var removed = new KeeperWatch();
            var stat = await Retry.OnConnectionLossAsync(client, () => client.ExistsAsync(BarrierPath, removed, cancellationToken), cancellationToken);
            if (stat is null) return;
            var e = await removed.Fired.WaitAsync(cancellationToken);
            if (e.Type == EventType.None) throw Retry.SessionEnded(e, BarrierPath);
        }
    }
}
