using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>One znode as ZooKeeper stores it (DataNode + StatPersisted); cversion counts child creates only, as in Keeper.</summary>
public sealed class ImportedNode
{
    public byte[]? Data;
    public IReadOnlyList<Acl> Acl = Protocol.Acl.OpenAclUnsafe;
    public long Czxid, Mzxid, Ctime, Mtime, EphemeralOwner, Pzxid;
    public int Version, Cversion, Aversion;
    public readonly HashSet<string> Children = new(StringComparer.Ordinal);
}

/// <summary>
/// ZooKeeper's state while it is rebuilt: the tree loaded from a snapshot, the sessions, and the txns after it applied
/// with ZooKeeper's own rules (DataTree.processTxn in 3.8). ZooKeeper's snapshots are fuzzy: a snapshot named for
/// zxid Z may already hold some changes of the txns after Z, so replaying them must be harmless. ZooKeeper ignores a
/// txn that fails (node exists, no node), raises a parent's cversion and pzxid only upwards, and a pzxid on delete only
/// when larger; this does the same, so the result is what ZooKeeper itself would have loaded.
/// Paths use Keeper's form: the root is "/" (ZooKeeper's snapshot calls it "").
/// </summary>
public sealed class ImportedTree(bool extendedTypes)
{
    public Dictionary<string, ImportedNode> Nodes { get; } = new(StringComparer.Ordinal);
    /// <summary>Session id → timeout in ms, as ZooKeeper's snapshot and createSession/closeSession txns leave them.</summary>
    public Dictionary<long, int> Sessions { get; } = [];
    /// <summary>The last txn applied (or the snapshot's zxid before any).</summary>
    public long LastZxid { get; set; }
    public int IgnoredTxns { get; private set; }
    // Which ephemerals each session owns, so that a closeSession does not walk the whole tree.
    private readonly Dictionary<long, HashSet<string>> _ephemerals = [];

    /// <summary>Adds a node read from a snapshot; its parent must be there already (ZooKeeper writes parents first).</summary>
    public void AddFromSnapshot(string path, ImportedNode node)
    {
        if (path != "/")
        {
            var parent = Nodes.GetValueOrDefault(PathUtils.Parent(path))
                ?? throw new InvalidDataException($"node {path} comes before its parent");
            parent.Children.Add(PathUtils.Name(path));
        }
        Nodes[path] = node;
        Track(path, node.EphemeralOwner);
    }

    /// <summary>Applies one txn from ZooKeeper's log (the header's session, zxid and time, and the decoded txn).</summary>
    public void Apply(long sessionId, long zxid, long time, ZooKeeperTxn txn)
    {
        switch (txn)
        {
            case ZooKeeperTxn.CreateSession s:
                Sessions[sessionId] = s.Timeout;
                break;
            case ZooKeeperTxn.CloseSession c:
                Sessions.Remove(sessionId);
                foreach (var path in c.PathsToDelete) Ignore(Delete(path, zxid));
                foreach (var path in EphemeralsOf(sessionId)) Ignore(Delete(path, zxid));
                break;
            case ZooKeeperTxn.Multi m:
                // A multi with an error op was recorded as failed and changed nothing.
                if (m.Ops.Any(op => op is ZooKeeperTxn.Error)) break;
                foreach (var op in m.Ops) Apply(sessionId, zxid, time, op);
                break;
            default:
                Ignore(ApplyOne(sessionId, zxid, time, txn));
                break;
        }
        if (zxid > LastZxid) LastZxid = zxid;
    }

    private void Ignore(bool applied)
    {
        if (!applied) IgnoredTxns++;
    }

    private bool ApplyOne(long sessionId, long zxid, long time, ZooKeeperTxn txn)
    {
        switch (txn)
        {
            case ZooKeeperTxn.Create c:
                return Create(c, c.Ephemeral ? sessionId : c.EphemeralOwner, zxid, time);
            case ZooKeeperTxn.Delete d:
                return Delete(d.Path, zxid);
            case ZooKeeperTxn.SetData s:
            {
                if (!Nodes.TryGetValue(s.Path, out var node)) return false;
                node.Data = s.Data;
                node.Version = s.Version;
                node.Mzxid = zxid;
                node.Mtime = time;
                return true;
            }
            case ZooKeeperTxn.SetAcl a:
            {
                if (!Nodes.TryGetValue(a.Path, out var node)) return false;
                node.Acl = a.Acl;
                node.Aversion = a.Version;
                return true;
            }
            default:
                return true; // check, error: nothing to apply
        }
    }

    private bool Create(ZooKeeperTxn.Create c, long owner, long zxid, long time)
    {
        if (!Nodes.TryGetValue(PathUtils.Parent(c.Path), out var parent)) return false;
        if (parent.Children.Contains(PathUtils.Name(c.Path)))
        {
            // The snapshot already has the node (or a later one of the same name): ZooKeeper still moves the parent's
            // cversion and pzxid up to what this create gave them.
            if (c.ParentCversion > parent.Cversion)
            {
                parent.Cversion = c.ParentCversion;
                parent.Pzxid = zxid;
            }
            return false;
        }
        // -1: a create from before ZooKeeper recorded the parent's cversion; it is one more than the parent has.
        int parentCversion = c.ParentCversion == -1 ? parent.Cversion + 1 : c.ParentCversion;
        if (parentCversion > parent.Cversion)
        {
            parent.Cversion = parentCversion;
            parent.Pzxid = zxid;
        }
        parent.Children.Add(PathUtils.Name(c.Path));
        Nodes[c.Path] = new ImportedNode
        {
            Data = c.Data, Acl = c.Acl, Czxid = zxid, Mzxid = zxid, Pzxid = zxid, Ctime = time, Mtime = time, EphemeralOwner = owner,
        };
        Track(c.Path, owner);
        return true;
    }

    private bool Delete(string path, long zxid)
    {
        if (path == "/" || !Nodes.TryGetValue(PathUtils.Parent(path), out var parent)) return false;
        parent.Children.Remove(PathUtils.Name(path));
        if (zxid > parent.Pzxid) parent.Pzxid = zxid;
        if (!Nodes.Remove(path, out var node)) return false;
        if (_ephemerals.TryGetValue(node.EphemeralOwner, out var owned) && owned.Remove(path) && owned.Count == 0)
            _ephemerals.Remove(node.EphemeralOwner);
        return true;
    }

    private void Track(string path, long owner)
    {
        if (EphemeralType.Get(owner, extendedTypes) != EphemeralKind.Normal) return;
        if (!_ephemerals.TryGetValue(owner, out var owned)) _ephemerals[owner] = owned = new(StringComparer.Ordinal);
        owned.Add(path);
    }

    private List<string> EphemeralsOf(long sessionId) => _ephemerals.TryGetValue(sessionId, out var owned) ? [.. owned] : [];
}
