using System.Text;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// Leader election (Curator's LeaderLatch): every participant creates an ephemeral-sequential node holding its id
/// under <c>latchPath</c>; the lowest node is the leader. Each other participant watches only its predecessor.
/// Leadership is lost on <see cref="CloseAsync"/>, when the connection is lost (it cannot be sure any more; it is
/// regained on reconnect if the node is still first) and when the session expires.
/// </summary>
public sealed class LeaderLatch : IAsyncDisposable
{
    private const string NodePrefix = "latch-";
    private readonly KeeperClient _client;
    private readonly SemaphoreSlim _checkGate = new(1, 1);
    private readonly object _lock = new();
    private readonly object _announceLock = new();
    private TaskCompletionSource _leader = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _node;
    private bool _hasLeadership;
    private volatile bool _closed;

    public LeaderLatch(KeeperClient client, string latchPath, string participantId)
    {
        _client = client;
        LatchPath = latchPath;
        ParticipantId = participantId;
    }

    public string LatchPath { get; }
    public string ParticipantId { get; }
    public string? NodePath => _node;

    public bool HasLeadership
    {
        get
        {
            lock (_lock) return _hasLeadership;
        }
    }

    /// <summary>Raised with true when this participant becomes leader and false when it stops being leader.</summary>
    public event EventHandler<bool>? LeadershipChanged;

    /// <summary>Joins the election; returns once this participant knows where it stands.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_node is not null) throw new InvalidOperationException("already started");
        _client.StateChanged += OnSessionState;
        _node = await SequentialNodes.CreateProtectedAsync(_client, LatchPath, NodePrefix, Encoding.UTF8.GetBytes(ParticipantId),
            CreateMode.EphemeralSequential, cancellationToken);
        await CheckAsync();
    }

    /// <summary>Completes when this participant is the leader.</summary>
    public Task AwaitLeadershipAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock) return _leader.Task.WaitAsync(cancellationToken);
    }

    /// <summary>The participant ids in election order; the first is the leader.</summary>
    public async Task<IReadOnlyList<string>> GetParticipantsAsync(CancellationToken cancellationToken = default)
    {
        var sorted = SequentialNodes.Sorted(await _client.GetChildrenAsync(LatchPath, cancellationToken: cancellationToken), NodePrefix);
        var ids = new List<string>();
        foreach (var name in sorted)
        {
            try
            {
                ids.Add(Encoding.UTF8.GetString((await _client.GetDataAsync(PathUtils.Join(LatchPath, name), cancellationToken: cancellationToken)).Data));
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                // Left meanwhile.
            }
        }
        return ids;
    }

    /// <summary>Leaves the election (deleting our node hands leadership to the next participant).</summary>
    public async Task CloseAsync()
    {
        if (_closed) return;
        _closed = true;
        _client.StateChanged -= OnSessionState;
        SetLeadership(false);
        if (_node is { } node && _client.State is SessionState.Connected or SessionState.ConnectedReadOnly or SessionState.Disconnected)
        {
            try
            {
                await Retry.OnConnectionLossAsync(_client, () => _client.DeleteIfExistsAsync(node), CancellationToken.None);
            }
            catch (Exception e) when (e is KeeperException or ObjectDisposedException)
            {
                // The session ended: the node went with it.
            }
        }
    }

    public async ValueTask DisposeAsync() => await CloseAsync();

    /// <summary>Looks at the election and either takes leadership or watches the predecessor. Runs one at a time.</summary>
    private async Task CheckAsync()
    {
        await _checkGate.WaitAsync();
        try
        {
            while (!_closed)
            {
                string ours = PathUtils.Name(_node!);
                var sorted = SequentialNodes.Sorted(await _client.GetChildrenAsync(LatchPath), NodePrefix);
                int index = sorted.IndexOf(ours);
                if (index < 0)
                {
                    // Our node vanished (deleted by someone): join again at the back.
                    SetLeadership(false);
                    _node = await SequentialNodes.CreateProtectedAsync(_client, LatchPath, NodePrefix,
                        Encoding.UTF8.GetBytes(ParticipantId), CreateMode.EphemeralSequential, CancellationToken.None);
                    continue;
                }
                if (index == 0)
                {
                    SetLeadership(true);
                    return;
                }
                SetLeadership(false);
                try
                {
                    await _client.GetDataAsync(PathUtils.Join(LatchPath, sorted[index - 1]), OnPredecessorEvent);
                    return;
                }
                catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
                {
                    // Gone already: look again.
                }
            }
        }
        catch (Exception e) when (e is KeeperException or ObjectDisposedException)
        {
            // Connection loss: the reconnect will trigger a new check. Expiry or close: the latch is over.
            _client.Logger.LogDebug(e, "Leader latch check on {Path} stopped", LatchPath);
        }
        finally
        {
            _checkGate.Release();
        }
    }

    private void OnPredecessorEvent(WatchedEvent e)
    {
        if (e.Type == EventType.None)
        {
            SetLeadership(false);
            return;
        }
        _ = CheckAsync();
    }

    private void OnSessionState(object? sender, SessionState state)
    {
        switch (state)
        {
            case SessionState.Disconnected:
            case SessionState.Expired:
            case SessionState.Closed:
                SetLeadership(false);
                break;
            case SessionState.Connected when _node is not null:
                _ = CheckAsync();
                break;
        }
    }

    /// <remarks>
    /// Called from the check, the session's event stream and CloseAsync, possibly at once: changes are applied and
    /// announced one at a time, so handlers hear true and false alternately and the last one they hear is
    /// <see cref="HasLeadership"/>. The event is raised before AwaitLeadershipAsync completes, so whoever awaited
    /// leadership has seen the event. Leadership is only taken while connected and open: a check whose answer
    /// arrives after the connection was lost (or the latch closed) must not undo what that loss (or close) did.
    /// </remarks>
    private void SetLeadership(bool leader)
    {
        lock (_announceLock)
        {
            if (leader && (_closed || _client.State is not (SessionState.Connected or SessionState.ConnectedReadOnly))) return;
            TaskCompletionSource? becameLeader = null;
            lock (_lock)
            {
                if (_hasLeadership == leader) return;
                _hasLeadership = leader;
                if (leader) becameLeader = _leader;
                else if (_leader.Task.IsCompleted) _leader = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            LeadershipChanged?.Invoke(this, leader);
            becameLeader?.TrySetResult();
        }
    }
}
