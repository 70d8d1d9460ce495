using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// A mutex across processes (Curator's InterProcessMutex, without reentrancy). Each contender creates an
/// ephemeral-sequential node under <c>lockPath</c>; the lowest holds the lock, and every other waits for the
/// deletion of the node just before its own, so a release wakes exactly one waiter (no herd). A crashed holder's
/// node goes with its session, which releases the lock.
/// <code>
/// var mutex = new DistributedLock(client, "/locks/orders");
/// await using (await mutex.AcquireAsync()) { ... }
/// </code>
/// One instance is one contender: use one per concurrent acquirer.
/// </summary>
public sealed class DistributedLock(KeeperClient client, string lockPath, byte[]? nodeData = null)
{
    private const string NodePrefix = "lock-";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _node;

    public string LockPath { get; } = lockPath;

    /// <summary>Our node while we hold the lock (or wait for it).</summary>
    public string? NodePath => _node;

    public bool IsHeld { get; private set; }

    /// <summary>Waits for the lock; dispose the result (or call <see cref="ReleaseAsync"/>) to release it.</summary>
    public async Task<IAsyncDisposable> AcquireAsync(CancellationToken cancellationToken = default)
    {
        if (!await TryAcquireCoreAsync(Timeout.InfiniteTimeSpan, cancellationToken))
            throw new InvalidOperationException("unreachable: an unbounded wait cannot time out");
        return new Releaser(this);
    }

    /// <summary>Waits up to <paramref name="timeout"/>; false (and no node left behind) if the lock stayed taken.</summary>
    public Task<bool> TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        TryAcquireCoreAsync(timeout, cancellationToken);

    public async Task ReleaseAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (!IsHeld || _node is null) throw new InvalidOperationException("the lock is not held");
            IsHeld = false;
            await DeleteOwnNodeAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The contenders' nodes in the order they will hold the lock; the first holds it now.</summary>
    public async Task<IReadOnlyList<string>> GetParticipantNodesAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var children = await client.GetChildrenAsync(LockPath, cancellationToken: cancellationToken);
            return SequentialNodes.Sorted(children, NodePrefix).Select(c => PathUtils.Join(LockPath, c)).ToList();
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return [];
        }
    }

    private async Task<bool> TryAcquireCoreAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (IsHeld || _node is not null) throw new InvalidOperationException("this contender already holds or waits for the lock");
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (timeout != Timeout.InfiniteTimeSpan) deadline.CancelAfter(timeout);
            try
            {
                _node = await SequentialNodes.CreateProtectedAsync(client, LockPath, NodePrefix, nodeData, CreateMode.EphemeralSequential, deadline.Token);
                await WaitUntilFirstAsync(deadline.Token);
                IsHeld = true;
                return true;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await DeleteOwnNodeAsync();
                return false;
            }
            catch
            {
                await DeleteOwnNodeAsync();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task WaitUntilFirstAsync(CancellationToken cancellationToken)
    {
        string ours = PathUtils.Name(_node!);
        while (true)
        {
            var children = await Retry.OnConnectionLossAsync(client, () => client.GetChildrenAsync(LockPath, cancellationToken: cancellationToken), cancellationToken);
            var sorted = SequentialNodes.Sorted(children, NodePrefix);
            int index = sorted.IndexOf(ours);
            if (index < 0) throw new KeeperException(ErrorCode.NoNode, _node); // deleted under us (session expired?)
            if (index == 0) return;

            // Watch only the node just ahead of ours: when it goes, we are next (or it crashed and we look again).
            var predecessorGone = new KeeperWatch();
            try
            {
                await Retry.OnConnectionLossAsync(client,
                    () => client.GetDataAsync(PathUtils.Join(LockPath, sorted[index - 1]), predecessorGone, cancellationToken), cancellationToken);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                continue; // already gone
            }
            var fired = await predecessorGone.Fired.WaitAsync(cancellationToken);
            if (fired.Type == EventType.None) throw Retry.SessionEnded(fired, _node);
        }
    }

    private async Task DeleteOwnNodeAsync()
    {
        var node = _node;
        _node = null;
        if (node is null) return;
        try
        {
            // A node left behind by a lost connection would hold the lock for as long as our session lives.
            await Retry.OnConnectionLossAsync(client, () => client.DeleteIfExistsAsync(node), CancellationToken.None);
        }
        catch (Exception e) when (e is KeeperException or ObjectDisposedException)
        {
            // The session is gone, and the ephemeral node with it.
        }
    }

    private sealed class Releaser(DistributedLock owner) : IAsyncDisposable
    {
        private int _released;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) await owner.ReleaseAsync();
        }
    }
}
