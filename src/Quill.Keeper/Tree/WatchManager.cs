using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tree;

/// <summary>Something that receives watch events: in practice a client connection.</summary>
public interface IWatcher
{
    void Process(WatcherEvent e);
}

/// <summary>
/// The server's watch tables, as ZooKeeper keeps them: one-shot data watches (exists and getData), one-shot child
/// watches, persistent watches (every event on their path) and persistent-recursive watches (created, deleted and
/// data-changed on their path and every path below it; never children-changed). A watcher gets each event once, even
/// when several of its watches match.
/// </summary>
public sealed class WatchManager
{
    private readonly Dictionary<string, HashSet<IWatcher>> _data = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<IWatcher>> _child = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<IWatcher>> _persistent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<IWatcher>> _recursive = new(StringComparer.Ordinal);
    private readonly HashSet<IWatcher> _fired = [];

    public int DataWatchCount => Count(_data) + Count(_persistent) + Count(_recursive);
    public int ChildWatchCount => Count(_child);
    public int TotalCount => DataWatchCount + ChildWatchCount;
    private static int Count(Dictionary<string, HashSet<IWatcher>> table) => table.Values.Sum(s => s.Count);

    public void AddDataWatch(string path, IWatcher w) => Add(_data, path, w);
    public void AddChildWatch(string path, IWatcher w) => Add(_child, path, w);
    public void AddPersistentWatch(string path, IWatcher w, bool recursive) => Add(recursive ? _recursive : _persistent, path, w);

    private static void Add(Dictionary<string, HashSet<IWatcher>> table, string path, IWatcher w)
    {
        if (!table.TryGetValue(path, out var set)) table[path] = set = [];
        set.Add(w);
    }

    private static bool Remove(Dictionary<string, HashSet<IWatcher>> table, string path, IWatcher w)
    {
        if (!table.TryGetValue(path, out var set) || !set.Remove(w)) return false;
        if (set.Count == 0) table.Remove(path);
        return true;
    }

    private static bool Has(Dictionary<string, HashSet<IWatcher>> table, string path, IWatcher w) =>
        table.TryGetValue(path, out var set) && set.Contains(w);

    /// <summary>Fires the watches an event on <paramref name="path"/> triggers.</summary>
    public void Trigger(string path, EventType type)
    {
        var oneShot = type == EventType.NodeChildrenChanged ? _child : _data;
        // Most changes fire nothing: look before building the event.
        if (!oneShot.ContainsKey(path) && _persistent.Count == 0 && _recursive.Count == 0
            && !(type == EventType.NodeDeleted && _child.ContainsKey(path)))
            return;
        var e = new WatcherEvent(type, KeeperState.SyncConnected, path);
        _fired.Clear();
        if (oneShot.Remove(path, out var watchers))
            foreach (var w in watchers) Fire(w, e);
        if (type == EventType.NodeDeleted && _child.Remove(path, out var childWatchers))
            foreach (var w in childWatchers) Fire(w, e);
        if (_persistent.TryGetValue(path, out var persistent))
            foreach (var w in persistent) Fire(w, e);
        if (type != EventType.NodeChildrenChanged && _recursive.Count > 0)
        {
            for (string p = path; ; p = PathUtils.Parent(p))
            {
                if (_recursive.TryGetValue(p, out var recursive))
                    foreach (var w in recursive) Fire(w, e);
                if (p == "/") break;
            }
        }
    }

    private void Fire(IWatcher w, WatcherEvent e)
    {
        if (_fired.Add(w)) w.Process(e);
    }

    /// <summary>checkWatches: whether <paramref name="w"/> holds a watch of this kind on the path.</summary>
    public bool HasWatch(string path, IWatcher w, WatcherType type) => type switch
    {
        WatcherType.Children => Has(_child, path, w),
        WatcherType.Data => Has(_data, path, w),
        WatcherType.Persistent => Has(_persistent, path, w),
        WatcherType.PersistentRecursive => Has(_recursive, path, w),
        _ => Has(_child, path, w) || Has(_data, path, w) || Has(_persistent, path, w) || Has(_recursive, path, w),
    };

    /// <summary>removeWatches: drops the watcher's watches of this kind on the path; false when there were none.</summary>
    public bool RemoveWatch(string path, IWatcher w, WatcherType type)
    {
        bool removed = false;
        if (type is WatcherType.Children or WatcherType.Any) removed |= Remove(_child, path, w);
        if (type is WatcherType.Data or WatcherType.Any) removed |= Remove(_data, path, w);
        if (type is WatcherType.Persistent or WatcherType.Any) removed |= Remove(_persistent, path, w);
        if (type is WatcherType.PersistentRecursive or WatcherType.Any) removed |= Remove(_recursive, path, w);
        return removed;
    }

    /// <summary>Forgets every watch of a closed connection.</summary>
    public void RemoveWatcher(IWatcher w)
    {
        foreach (var table in new[] { _data, _child, _persistent, _recursive })
        {
            List<string>? empty = null;
            foreach (var (path, set) in table)
                if (set.Remove(w) && set.Count == 0) (empty ??= []).Add(path);
            if (empty is not null) foreach (var p in empty) table.Remove(p);
        }
    }

    /// <summary>
    /// For the wchs/wchc/wchp four-letter words: (path, watcher) pairs of the data watches (persistent ones included),
    /// which is all ZooKeeper lists there; child watches count only in mntr's watch_count.
    /// </summary>
    public IEnumerable<(string Path, IWatcher Watcher)> DataWatches()
    {
        foreach (var table in new[] { _data, _persistent, _recursive })
            foreach (var (path, set) in table)
                foreach (var w in set) yield return (path, w);
    }
}
