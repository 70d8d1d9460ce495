using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// Keeps a local copy of one node (Curator's NodeCache) — typically a configuration: <see cref="Current"/> is its
/// latest data and Stat (null while the node does not exist), refreshed by a watch on every change, creation and
/// deletion. Watches survive reconnects, so the cache catches up with changes made while disconnected.
/// </summary>
public sealed class NodeCache : IAsyncDisposable
{
    private readonly KeeperClient _client;
    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private readonly object _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NodeData? _current;
    private NodeData? _announced; // what WaitForAsync sees: _current once Changed has been raised for it
    private volatile bool _running;
    private bool _published;

    public NodeCache(KeeperClient client, string path)
    {
        _client = client;
        Path = path;
    }

    public string Path { get; }

    public NodeData? Current
    {
        get
        {
            lock (_lock) return _current;
        }
    }

    /// <summary>
    /// Raised with the new value each time the node changes, one change at a time and before
    /// <see cref="WaitForAsync"/> sees the change (so a waiter that returns knows its handlers have run).
    /// </summary>
    public event EventHandler<NodeData?>? Changed;

    /// <summary>Loads the node and starts following it.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _running = true;
        _client.StateChanged += OnSessionState;
        await RefreshAsync(cancellationToken);
    }

    /// <summary>Completes when <see cref="Current"/> satisfies <paramref name="condition"/> (checked now and on each change).</summary>
    public async Task<NodeData?> WaitForAsync(Func<NodeData?, bool> condition, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            NodeData? current;
            lock (_lock)
            {
                current = _announced;
                changed = _changed.Task;
            }
            if (condition(current)) return current;
            await changed.WaitAsync(cancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        _running = false;
        _client.StateChanged -= OnSessionState;
        return ValueTask.CompletedTask;
    }

    /// <summary>A refresh that failed with connection loss set no watch: look again once connected.</summary>
    private void OnSessionState(object? sender, SessionState state)
    {
        if (state == SessionState.Connected && _running) _ = RefreshInBackgroundAsync();
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            while (_running)
            {
                try
                {
                    Publish(await _client.GetDataAsync(Path, OnNodeEvent, cancellationToken));
                    return;
                }
                catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
                {
                    // Missing: watch for its creation. If it appeared in between, read it again.
                    if (await _client.ExistsAsync(Path, OnNodeEvent, cancellationToken) is not null) continue;
                    Publish(null);
                    return;
                }
            }
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private void OnNodeEvent(WatchedEvent e)
    {
        if (!_running || e.Type == EventType.None) return;
        _ = RefreshInBackgroundAsync();
    }

    private async Task RefreshInBackgroundAsync()
    {
        try
        {
            await RefreshAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is KeeperException or ObjectDisposedException)
        {
            // Connection loss: the watch is re-registered on reconnect and fires again for what we missed.
            _client.Logger.LogDebug(e, "Node cache refresh of {Path} failed", Path);
        }
    }

    /// <summary>Runs under the refresh gate, so changes are announced one at a time and in order.</summary>
    private void Publish(NodeData? value)
    {
        lock (_lock)
        {
            // A refresh that finds what we already have (same creation, same last modification) is not a change.
            bool same = _published && value?.Stat.Czxid == _current?.Stat.Czxid && value?.Stat.Mzxid == _current?.Stat.Mzxid;
            if (same) return;
            _published = true;
            _current = value;
        }
        try
        {
            Changed?.Invoke(this, value);
        }
        finally
        {
            lock (_lock)
            {
                _announced = value;
                var changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                changed.TrySetResult();
            }
        }
    }
}
