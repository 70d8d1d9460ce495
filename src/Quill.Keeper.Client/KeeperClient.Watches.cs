using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Quill.Keeper.Client.Watches;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

// Persistent watches (addWatch) and removing or checking watches. One-shot watches are set by passing a watcher to
// ExistsAsync, GetDataAsync and GetChildrenAsync.
public sealed partial class KeeperClient
{
    /// <summary>
    /// Sets a watch that stays until removed. <see cref="AddWatchMode.Persistent"/> hears creation, deletion, data
    /// and child-list changes of <paramref name="path"/>; <see cref="AddWatchMode.PersistentRecursive"/> hears
    /// creation, deletion and data changes of the path and every node below it (no child-list events).
    /// </summary>
    public Task AddWatchAsync(string path, Action<WatchedEvent> watcher, AddWatchMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(watcher);
        var kind = mode == AddWatchMode.PersistentRecursive ? WatchKind.PersistentRecursive : WatchKind.Persistent;
        return SendAsync<bool>(OpCode.AddWatch, new AddWatchRequest(ServerPath(path), mode), null, path, cancellationToken,
            new WatchRegistration(kind, path, watcher));
    }

    /// <summary>
    /// A persistent watch as an async stream: events arrive until the enumeration ends (break or cancellation),
    /// which removes the watch. The stream ends by itself when the session ends.
    /// </summary>
    public async IAsyncEnumerable<WatchedEvent> WatchAsync(string path, AddWatchMode mode = AddWatchMode.Persistent,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var events = Channel.CreateUnbounded<WatchedEvent>(new UnboundedChannelOptions { SingleReader = true });
        Action<WatchedEvent> watcher = e =>
        {
            if (e.Type == EventType.None) events.Writer.TryComplete();
            else events.Writer.TryWrite(e);
        };
        await AddWatchAsync(path, watcher, mode, cancellationToken);
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(cancellationToken))
                yield return e;
        }
        finally
        {
            await StopWatchingAsync(path, watcher);
        }
    }

    /// <summary>
    /// Removes every watch of <paramref name="type"/> on <paramref name="path"/> (Any includes persistent ones):
    /// locally, and on the server unless <paramref name="local"/>. Each removed watcher hears a …WatchRemoved event.
    /// Throws NoWatcher when there is no such watch.
    /// </summary>
    public async Task RemoveWatchesAsync(string path, WatcherType type, bool local = false, CancellationToken cancellationToken = default)
    {
        string serverPath = ServerPath(path);
        if (!Watches.Contains(path, type)) throw new KeeperException(ErrorCode.NoWatcher, path);
        if (!local)
            await SendAsync<bool>(OpCode.RemoveWatches, new WatchesRequest(serverPath, type), null, path, cancellationToken);
        foreach (var group in Watches.Remove(path, type).GroupBy(r => r.Removed))
        {
            Dispatcher.Post(new WatchDelivery(new WatchedEvent(group.Key, KeeperState.SyncConnected, path),
                group.Select(r => r.Watcher).Distinct().ToList()));
        }
    }

    /// <summary>Asks the server whether this session holds a watch of <paramref name="type"/> on the path; NoWatcher if not.</summary>
    public Task CheckWatchesAsync(string path, WatcherType type, CancellationToken cancellationToken = default) =>
        SendAsync<bool>(OpCode.CheckWatches, new WatchesRequest(ServerPath(path), type), null, path, cancellationToken);

    /// <summary>How many (path, kind) watches the client holds: what it would re-register after a reconnect.</summary>
    public int WatchCount => Watches.Count;

    /// <summary>
    /// Drops one watcher. The server cannot remove a single persistent watch before 3.9, so the server's watches on
    /// the path are removed only when no other watcher of this client still needs them.
    /// </summary>
    private async Task StopWatchingAsync(string path, Action<WatchedEvent> watcher)
    {
        if (Watches.RemoveWatcher(path, watcher)) return;
        if (State is not (SessionState.Connected or SessionState.ConnectedReadOnly)) return;
        try
        {
            await SendAsync<bool>(OpCode.RemoveWatches, new WatchesRequest(_chroot.ToServer(path), WatcherType.Any), null, path, CancellationToken.None);
        }
        catch (Exception e) when (e is KeeperException or ObjectDisposedException)
        {
            // Already gone with the session, or never there.
        }
    }
}
