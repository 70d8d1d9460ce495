using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Pipeline;

/// <summary>What a node will look like once every accepted txn is applied (ZooKeeper's ChangeRecord).</summary>
public sealed class NodeView
{
    public required string Path;
    public bool Exists;
    public int Version, Cversion, Aversion, ChildCount;
    public long EphemeralOwner;
    public IReadOnlyList<Acl> Acl = [];
    /// <summary>The newest txn that produced this view; the view is dropped when that txn is applied.</summary>
    public long Zxid;

    public NodeView Clone() => (NodeView)MemberwiseClone();
}

/// <summary>
/// Accepted but not yet applied changes. A write is validated against this view rather than against the tree,
/// because the txns ahead of it in the log will have changed the tree by the time it is applied. This is the seam
/// where a quorum slots in later: between acceptance (here) and application (after commit).
/// </summary>
public sealed class PendingChanges(DataTree tree)
{
    private readonly Dictionary<string, NodeView> _views = new(StringComparer.Ordinal);
    /// <summary>Every Put in zxid order, so <see cref="Applied"/> looks only at what the applied txns produced.</summary>
    private readonly Queue<(long Zxid, string Path)> _byZxid = new();
    private Dictionary<string, NodeView?>? _undo;

    public int Count => _views.Count;

    /// <summary>The node as it will be, or null when it will not exist.</summary>
    public NodeView? Get(string path)
    {
        if (_views.TryGetValue(path, out var view)) return view.Exists ? view : null;
        var node = tree.Get(path);
        if (node is null) return null;
        return new NodeView
        {
            Path = path, Exists = true, Version = node.Version, Cversion = node.Cversion, Aversion = node.Aversion,
            ChildCount = node.ChildCount, EphemeralOwner = node.EphemeralOwner, Acl = node.Acl,
        };
    }

    /// <summary>As <see cref="Get"/>, but a view the caller may change and then <see cref="Put"/>.</summary>
    public NodeView? GetForChange(string path) =>
        _views.TryGetValue(path, out var view) ? (view.Exists ? view.Clone() : null) : Get(path);

    public void Put(NodeView view, long zxid)
    {
        if (_undo is not null && !_undo.ContainsKey(view.Path))
            _undo[view.Path] = _views.TryGetValue(view.Path, out var old) ? old : null;
        view.Zxid = zxid;
        _views[view.Path] = view;
        _byZxid.Enqueue((zxid, view.Path));
    }

    /// <summary>
    /// The ephemeral nodes of a session that accepted txns will create (ZooKeeper's outstanding changes): a closing
    /// session's pending creates must be deleted with it, as well as those already in the tree.
    /// </summary>
    public IEnumerable<string> PendingEphemeralsOf(long sessionId)
    {
        foreach (var view in _views.Values)
            if (view.Exists && view.EphemeralOwner == sessionId) yield return view.Path;
    }

    /// <summary>Starts recording changes so a failing multi can take them back.</summary>
    public void BeginMulti() => _undo = new(StringComparer.Ordinal);

    public void EndMulti(bool rollback)
    {
        if (rollback && _undo is not null)
            foreach (var (path, old) in _undo)
                if (old is null) _views.Remove(path); else _views[path] = old;
        _undo = null;
    }

    /// <summary>
    /// Drops the views the txns up to <paramref name="zxid"/> produced: the tree now says the same. A view a later
    /// txn replaced stays (its own entry comes later in the queue).
    /// </summary>
    public void Applied(long zxid)
    {
        while (_byZxid.TryPeek(out var head) && head.Zxid <= zxid)
        {
            _byZxid.Dequeue();
            if (_views.TryGetValue(head.Path, out var view) && view.Zxid <= zxid) _views.Remove(head.Path);
        }
    }
}
