using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

/// <summary>
/// A change a watcher asked to hear about. <see cref="Path"/> is the caller's path (chroot stripped). When the session
/// ends (expired or closed) every outstanding watcher gets one event with <see cref="EventType.None"/> and the final
/// <see cref="KeeperState"/>, so nothing waits forever on a watch that can no longer fire.
/// </summary>
public sealed record WatchedEvent(EventType Type, KeeperState State, string Path);

/// <summary>
/// A one-shot watch as a Task: pass it where a watcher is expected and await <see cref="Fired"/>.
/// <code>
/// var changed = new KeeperWatch();
/// var data = await client.GetDataAsync("/config", changed);
/// var e = await changed.Fired;   // NodeDataChanged, NodeDeleted, or None when the session ended
/// </code>
/// </summary>
public sealed class KeeperWatch
{
    private readonly TaskCompletionSource<WatchedEvent> _fired = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public KeeperWatch() => Callback = e => _fired.TrySetResult(e);

    /// <summary>The watcher delegate; one identity, so registering it twice still fires it once.</summary>
    public Action<WatchedEvent> Callback { get; }

    public Task<WatchedEvent> Fired => _fired.Task;

    public static implicit operator Action<WatchedEvent>(KeeperWatch watch) => watch.Callback;
}
