using Quill.Keeper.Client.Connection;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Watches;

/// <summary>
/// The client's side of ZooKeeper's watches: which watcher waits for what on which path (caller paths, chroot
/// stripped). One-shot watches leave when they fire; persistent ones stay until removed. After a reconnect the
/// whole table is sent back to the server (setWatches) so no watch is lost with the old connection.
/// </summary>
internal sealed class WatchManager
{
    /// <summary>Paths per setWatches packet; the Java client splits at the same size so no packet nears jute.maxbuffer.</summary>
    private const int SetWatchesMaxPathBytes = 128 * 1024;

    private readonly object _lock = new();
    private readonly Dictionary<string, HashSet<Action<WatchedEvent>>> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Action<WatchedEvent>>> _exist = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Action<WatchedEvent>>> _child = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Action<WatchedEvent>>> _persistent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<Action<WatchedEvent>>> _recursive = new(StringComparer.Ordinal);

    /// <summary>Remembers a watcher once its request has been answered with <paramref name="error"/>.</summary>
    public void Register(WatchRegistration registration, ErrorCode error)
    {
        var table = (registration.Kind, error) switch
        {
            (WatchKind.Data or WatchKind.Exist, ErrorCode.Ok) => _data,
            (WatchKind.Exist, ErrorCode.NoNode) => _exist,
            (WatchKind.Child, ErrorCode.Ok) => _child,
            (WatchKind.Persistent, ErrorCode.Ok) => _persistent,
            (WatchKind.PersistentRecursive, ErrorCode.Ok) => _recursive,
            _ => null,
        };
        if (table is null) return;
        lock (_lock)
        {
            if (!table.TryGetValue(registration.ClientPath, out var watchers))
                table[registration.ClientPath] = watchers = [];
            watchers.Add(registration.Watcher);
        }
    }

    /// <summary>The watchers an event reaches, each once; one-shot watchers are removed.</summary>
    public List<Action<WatchedEvent>> Materialize(EventType type, string path)
    {
        var result = new List<Action<WatchedEvent>>();
        lock (_lock)
        {
            switch (type)
            {
                case EventType.NodeCreated:
                case EventType.NodeDataChanged:
                    Take(_data, path, result);
                    Take(_exist, path, result);
                    break;
                case EventType.NodeChildrenChanged:
                    Take(_child, path, result);
                    break;
                case EventType.NodeDeleted:
                    Take(_data, path, result);
                    Take(_exist, path, result);
                    Take(_child, path, result);
                    break;
                default:
                    return result;
            }

            AddAll(_persistent, path, result);
            // Recursive watches see creations, deletions and data changes below them, never child-list changes.
            if (type != EventType.NodeChildrenChanged)
            {
                for (string p = path; ; p = PathUtils.Parent(p))
                {
                    AddAll(_recursive, p, result);
                    if (p == "/") break;
                }
            }
        }
        return result;
    }

    /// <summary>Removes the watchers of one kind on a path, with the event each should be told (…WatchRemoved).</summary>
    public List<(Action<WatchedEvent> Watcher, EventType Removed)> Remove(string path, WatcherType type)
    {
        var removed = new List<(Action<WatchedEvent>, EventType)>();
        lock (_lock)
        {
            if (type is WatcherType.Children or WatcherType.Any) Take(_child, path, removed, EventType.ChildWatchRemoved);
            if (type is WatcherType.Data or WatcherType.Any)
            {
                Take(_data, path, removed, EventType.DataWatchRemoved);
                Take(_exist, path, removed, EventType.DataWatchRemoved);
            }
            if (type is WatcherType.Persistent or WatcherType.Any) Take(_persistent, path, removed, EventType.PersistentWatchRemoved);
            if (type is WatcherType.PersistentRecursive or WatcherType.Any) Take(_recursive, path, removed, EventType.PersistentWatchRemoved);
        }
        return removed;
    }

    public bool Contains(string path, WatcherType type)
    {
        lock (_lock)
        {
            return type switch
            {
                WatcherType.Children => _child.ContainsKey(path),
                WatcherType.Data => _data.ContainsKey(path) || _exist.ContainsKey(path),
                WatcherType.Persistent => _persistent.ContainsKey(path),
                WatcherType.PersistentRecursive => _recursive.ContainsKey(path),
                _ => _child.ContainsKey(path) || _data.ContainsKey(path) || _exist.ContainsKey(path) ||
                     _persistent.ContainsKey(path) || _recursive.ContainsKey(path),
            };
        }
    }

    /// <summary>Removes one watcher from a path, whatever its kind; true when other watchers remain on the path.</summary>
    public bool RemoveWatcher(string path, Action<WatchedEvent> watcher)
    {
        lock (_lock)
        {
            bool others = false;
            foreach (var table in new[] { _data, _exist, _child, _persistent, _recursive })
            {
                if (!table.TryGetValue(path, out var set)) continue;
                set.Remove(watcher);
                if (set.Count == 0) table.Remove(path);
                else others = true;
            }
            return others;
        }
    }

    /// <summary>Empties the table (the session is over) and returns every watcher that was in it, each once.</summary>
    public List<Action<WatchedEvent>> TakeAll()
    {
        var result = new List<Action<WatchedEvent>>();
        lock (_lock)
        {
            foreach (var table in new[] { _data, _exist, _child, _persistent, _recursive })
            {
                foreach (var path in table.Keys.ToList()) Take(table, path, result);
            }
        }
        return result;
    }

    /// <summary>How many (path, kind) entries are registered: what the server holds for this session.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _data.Count + _exist.Count + _child.Count + _persistent.Count + _recursive.Count;
        }
    }

    /// <summary>
    /// The setWatches packets that re-register every watch on a new connection. The server fires at once any watch
    /// whose node changed after <paramref name="lastZxid"/>, so a change made while disconnected is not missed.
    /// </summary>
    public List<SetWatchesRequest> BuildSetWatches(long lastZxid, Chroot chroot)
    {
        var batches = new List<SetWatchesRequest>();
        lock (_lock)
        {
            var data = _data.Keys.ToList();
            var exist = _exist.Keys.ToList();
            var child = _child.Keys.ToList();
            var persistent = _persistent.Keys.ToList();
            var recursive = _recursive.Keys.ToList();
            var lists = new[] { data, exist, child, persistent, recursive };
            var current = NewBatch();
            int bytes = 0;
            for (int kind = 0; kind < lists.Length; kind++)
            {
                foreach (var path in lists[kind])
                {
                    string serverPath = chroot.ToServer(path);
                    if (bytes > 0 && bytes + serverPath.Length > SetWatchesMaxPathBytes)
                    {
                        batches.Add(current);
                        current = NewBatch();
                        bytes = 0;
                    }
                    ListOf(current, kind).Add(serverPath);
                    bytes += serverPath.Length;
                }
            }
            if (bytes > 0) batches.Add(current);
        }
        return batches;

        SetWatchesRequest NewBatch() => new(lastZxid, [], [], [], [], []);
        static List<string> ListOf(SetWatchesRequest r, int kind) => kind switch
        {
            0 => r.DataWatches,
            1 => r.ExistWatches,
            2 => r.ChildWatches,
            3 => r.PersistentWatches,
            _ => r.PersistentRecursiveWatches,
        };
    }

    private static void Take(Dictionary<string, HashSet<Action<WatchedEvent>>> table, string path, List<Action<WatchedEvent>> into)
    {
        if (!table.Remove(path, out var watchers)) return;
        foreach (var w in watchers)
            if (!into.Contains(w)) into.Add(w);
    }

    private static void Take(Dictionary<string, HashSet<Action<WatchedEvent>>> table, string path,
        List<(Action<WatchedEvent>, EventType)> into, EventType removed)
    {
        if (!table.Remove(path, out var watchers)) return;
        foreach (var w in watchers) into.Add((w, removed));
    }

    private static void AddAll(Dictionary<string, HashSet<Action<WatchedEvent>>> table, string path, List<Action<WatchedEvent>> into)
    {
        if (!table.TryGetValue(path, out var watchers)) return;
        foreach (var w in watchers)
            if (!into.Contains(w)) into.Add(w);
    }
}
