using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// A FIFO queue shared by many producers and consumers (ZooKeeper's queue recipe). Items are persistent-sequential
/// nodes <c>queuePath/qn-NNNNNNNNNN</c>; a consumer takes the lowest by deleting it, and only the consumer whose
/// delete succeeds gets the item, so each item is delivered exactly once.
/// </summary>
public sealed class DistributedQueue(KeeperClient client, string queuePath)
{
    private const string ItemPrefix = "qn-";

    public string QueuePath { get; } = queuePath;

    /// <summary>Appends an item; returns its node path.</summary>
    public async Task<string> EnqueueAsync(byte[] item, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                return await client.CreateAsync(PathUtils.Join(QueuePath, ItemPrefix), item, mode: CreateMode.PersistentSequential,
                    cancellationToken: cancellationToken);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                await client.EnsurePathAsync(QueuePath, cancellationToken);
            }
        }
    }

    /// <summary>Takes the head item, or returns null at once if the queue is empty.</summary>
    public async Task<byte[]?> TryDequeueAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> children;
        try
        {
            children = await client.GetChildrenAsync(QueuePath, cancellationToken: cancellationToken);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return null;
        }
        return await TakeFirstAsync(children, cancellationToken);
    }

    /// <summary>Takes the head item, waiting for one if the queue is empty.</summary>
    public async Task<byte[]> DequeueAsync(CancellationToken cancellationToken = default)
    {
        await client.EnsurePathAsync(QueuePath, cancellationToken);
        while (true)
        {
            if (await TryDequeueAsync(cancellationToken) is { } item) return item;

            // Empty: watch the children, and look once more in case an item arrived before the watch was set.
            var changed = new KeeperWatch();
            var children = await client.GetChildrenAsync(QueuePath, changed, cancellationToken);
            if (await TakeFirstAsync(children, cancellationToken) is { } late) return late;
            var e = await changed.Fired.WaitAsync(cancellationToken);
            if (e.Type == EventType.None) throw Retry.SessionEnded(e, QueuePath);
        }
    }

    /// <summary>How many items are waiting.</summary>
    public async Task<int> CountAsync(CancellationToken cancellationToken = default)
    {
        var stat = await client.ExistsAsync(QueuePath, cancellationToken: cancellationToken);
        return stat?.NumChildren ?? 0;
    }

    /// <summary>Tries the items in order; a NoNode on delete means another consumer took that one first.</summary>
    private async Task<byte[]?> TakeFirstAsync(IReadOnlyList<string> children, CancellationToken cancellationToken)
    {
        foreach (var name in SequentialNodes.Sorted(children, ItemPrefix))
        {
            string path = PathUtils.Join(QueuePath, name);
            try
            {
                var node = await client.GetDataAsync(path, cancellationToken: cancellationToken);
                // Not cancelled once sent: a delete that happens is an item taken, and the caller must get it
                // (a cancelled wait for the reply would lose the item).
                await client.DeleteAsync(path, node.Stat.Version, CancellationToken.None);
                return node.Data;
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                // Taken by another consumer.
            }
        }
        return null;
    }
}
