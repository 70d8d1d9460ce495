using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// A double barrier (Curator's DistributedDoubleBarrier): <see cref="EnterAsync"/> waits until
/// <c>memberCount</c> members have entered, and <see cref="LeaveAsync"/> waits until all of them have left, so a
/// group starts and finishes a computation together. Each member is an ephemeral node under the barrier path; a
/// "ready" node marks that the group is complete.
/// </summary>
public sealed class DistributedDoubleBarrier(KeeperClient client, string barrierPath, int memberCount)
{
    private const string ReadyNode = "ready";
    private readonly string _memberName = Guid.NewGuid().ToString("N");

    public string BarrierPath { get; } = barrierPath;
    private string ReadyPath => PathUtils.Join(BarrierPath, ReadyNode);
    private string OurPath => PathUtils.Join(BarrierPath, _memberName);

    /// <summary>Enters and waits until <c>memberCount</c> members are in.</summary>
    public async Task EnterAsync(CancellationToken cancellationToken = default)
    {
        await client.EnsurePathAsync(BarrierPath, cancellationToken);
        // Watch "ready" before joining, so its creation cannot slip between our count and our wait.
        var ready = new KeeperWatch();
        bool isReady = await client.ExistsAsync(ReadyPath, ready, cancellationToken) is not null;
        await client.CreateAsync(OurPath, null, mode: CreateMode.Ephemeral, cancellationToken: cancellationToken);
        if (isReady) return;

        var members = (await client.GetChildrenAsync(BarrierPath, cancellationToken: cancellationToken)).Count(c => c != ReadyNode);
        if (members >= memberCount)
        {
            try
            {
                await client.CreateAsync(ReadyPath, null, cancellationToken: cancellationToken);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
            {
                // Another member completed the group at the same moment.
            }
            return;
        }
        var fired = await ready.Fired.WaitAsync(cancellationToken);
        if (fired.Type == EventType.None) throw Retry.SessionEnded(fired, ReadyPath);
    }

    /// <summary>
    /// Leaves and waits until every member has left. The lowest member waits for the highest to go and the others
    /// delete themselves and wait on the lowest, so each leave wakes few watchers.
    /// </summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var members = (await client.GetChildrenAsync(BarrierPath, cancellationToken: cancellationToken))
                .Where(c => c != ReadyNode).Order(StringComparer.Ordinal).ToList();
            bool ourselvesIn = members.Contains(_memberName);
            if (members.Count == 0) break;
            if (members.Count == 1 && ourselvesIn)
            {
                await client.DeleteIfExistsAsync(OurPath, cancellationToken);
                break;
            }

            string watchTarget;
            if (members[0] == _memberName) watchTarget = members[^1];
            else
            {
                if (ourselvesIn) await client.DeleteIfExistsAsync(OurPath, cancellationToken);
                watchTarget = members[0];
            }
            var gone = new KeeperWatch();
            if (await client.ExistsAsync(PathUtils.Join(BarrierPath, watchTarget), gone, cancellationToken) is null) continue;
            var fired = await gone.Fired.WaitAsync(cancellationToken);
            if (fired.Type == EventType.None) throw Retry.SessionEnded(fired, BarrierPath);
        }
        // The last one out takes down "ready", so the barrier can be used again.
        await client.DeleteIfExistsAsync(ReadyPath, cancellationToken);
    }
}
