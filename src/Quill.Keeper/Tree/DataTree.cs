using Quill.Keeper.Protocol;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Tree;

/// <summary>What applying one txn produced: the path it touched (sequential names resolved) and the node's new stat.</summary>
public readonly record struct ApplyResult(OpCode Type, ErrorCode Err, string? Path = null, Stat? Stat = null);

/// <summary>
/// The in-memory tree of znodes. Owned by the request processor's thread: every read and every apply happens there,
/// so nothing here locks. Applying a txn fires the watches it triggers, before the caller answers the request, which
/// is what gives clients ZooKeeper's guarantee of seeing a watch event before the response that shows the change.
/// </summary>
public sealed class DataTree
{
    private readonly Dictionary<string, Znode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<long, HashSet<string>> _ephemerals = [];

    public DataTree(bool extendedTypes)
    {
        ExtendedTypes = extendedTypes;
        _nodes["/"] = new Znode([], Acl.OpenAclUnsafe);
        // ZooKeeper always has /zookeeper (and /zookeeper/quota); clients and tools expect to see it.
        AddSystemNode("/zookeeper");
        AddSystemNode("/zookeeper/quota");
        AddSystemNode("/zookeeper/config");
        // Everyone may read the membership; only a reconfig changes it (ZooKeeper's READ_ACL_UNSAFE).
        _nodes[ConfigPath].Acl = Acl.ReadAclUnsafe;
    }

    public const string ConfigPath = "/zookeeper/config";

    public bool ExtendedTypes { get; }
    public WatchManager Watches { get; } = new();
    public HashSet<string> Containers { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Ttls { get; } = new(StringComparer.Ordinal);
    public int NodeCount => _nodes.Count;
    public long LastZxid { get; private set; }
    public IReadOnlyDictionary<long, HashSet<string>> EphemeralsBySession => _ephemerals;

    public long ApproximateDataSize()
    {
        long size = 0;
        foreach (var (path, node) in _nodes) size += path.Length + (node.Data?.Length ?? 0);
        return size;
    }

    private void AddSystemNode(string path)
    {
        _nodes[path] = new Znode([], Acl.OpenAclUnsafe);
        _nodes[PathUtils.Parent(path)].AddChild(PathUtils.Name(path));
    }

    /// <summary>
    /// An ensemble member's /zookeeper/config: the membership, as ZooKeeper keeps it there (not a txn: every server
    /// writes its own from its configuration when it loads its state).
    /// </summary>
    public void SetQuorumConfig(byte[] data, long? zxid = null)
    {
        _nodes[ConfigPath].Data = data;
        if (zxid is { } z) _nodes[ConfigPath].Mzxid = z;
        _nodes[ConfigPath].Version = -1; // as ZooKeeper's ensemble members show it
    }

    /// <summary>The text of /zookeeper/config.</summary>
    public string QuorumConfigText() => System.Text.Encoding.UTF8.GetString(_nodes[ConfigPath].Data ?? []);

    /// <summary>The node at a path; "" is the root too, as in ZooKeeper.</summary>
    public Znode? Get(string path) => _nodes.GetValueOrDefault(path.Length == 0 ? "/" : path);

    public IReadOnlyCollection<string> EphemeralsOf(long sessionId) =>
        _ephemerals.TryGetValue(sessionId, out var set) ? set : [];

    /// <summary>getAllChildrenNumber: every node below the path, at any depth.</summary>
    public int CountDescendants(string path)
    {
        var node = Get(path);
        if (node is null) return 0;
        int count = 0;
        foreach (var child in node.Children) count += 1 + CountDescendants(PathUtils.Join(path, child));
        return count;
    }

    /// <summary>
    /// Applies a committed txn; zxids must increase. Nothing is ever applied twice: a snapshot holds exactly the txns
    /// up to its zxid, and recovery replays only the log after it.
    /// </summary>
    public ApplyResult Apply(long zxid, long time, long sessionId, Txn txn)
    {
        var result = ApplyOne(zxid, time, sessionId, txn);
        if (zxid > LastZxid) LastZxid = zxid;
        return result;
    }

    private ApplyResult ApplyOne(long zxid, long time, long sessionId, Txn txn)
    {
        switch (txn)
        {
            case CreateTxn c:
                return CreateNode(c, zxid, time);
            case DeleteTxn d:
                return DeleteNode(d.Path, zxid);
            case SetDataTxn s:
            {
                var node = Get(s.Path);
                if (node is null) return new(OpCode.SetData, ErrorCode.NoNode, s.Path);
                node.Data = s.Data;
                node.Version = s.Version;
                node.Mzxid = zxid;
                node.Mtime = time;
                Watches.Trigger(s.Path, EventType.NodeDataChanged);
                return new(OpCode.SetData, ErrorCode.Ok, s.Path, node.ToStat(ExtendedTypes));
            }
            case SetAclTxn a:
            {
                var node = Get(a.Path);
                if (node is null) return new(OpCode.SetAcl, ErrorCode.NoNode, a.Path);
                node.Acl = a.Acl;
                node.Aversion = a.Version;
                return new(OpCode.SetAcl, ErrorCode.Ok, a.Path, node.ToStat(ExtendedTypes));
            }
            case CheckTxn k:
                return new(OpCode.Check, ErrorCode.Ok, k.Path);
            case ErrorTxn e:
                return new(OpCode.Error, e.Err);
            case CloseSessionTxn:
                foreach (var path in EphemeralsOf(sessionId).ToList()) DeleteNode(path, zxid);
                return new(OpCode.CloseSession, ErrorCode.Ok);
            case CreateSessionTxn:
                return new(OpCode.CreateSession, ErrorCode.Ok);
            case ReconfigTxn rc:
            {
                var node = _nodes[ConfigPath];
                node.Data = rc.Config;
                node.Version = -1;
                node.Mzxid = zxid;
                node.Mtime = time;
                Watches.Trigger(ConfigPath, EventType.NodeDataChanged);
                return new(OpCode.Reconfig, ErrorCode.Ok, ConfigPath, node.ToStat(ExtendedTypes));
            }
            default:
                throw new InvalidOperationException($"txn {txn.Type} is not applied by the tree");
        }
    }

    /// <summary>Applies every op of a successful multi; returns one result per op.</summary>
    public List<ApplyResult> ApplyMulti(long zxid, long time, long sessionId, MultiTxn multi)
    {
        var results = new List<ApplyResult>(multi.Txns.Count);
        foreach (var t in multi.Txns) results.Add(ApplyOne(zxid, time, sessionId, t));
        if (zxid > LastZxid) LastZxid = zxid;
        return results;
    }

    private ApplyResult CreateNode(CreateTxn c, long zxid, long time)
    {
        var parentPath = PathUtils.Parent(c.Path);
        var parent = Get(parentPath);
        if (parent is null) return new(OpCode.Create, ErrorCode.NoNode, c.Path);
        if (_nodes.ContainsKey(c.Path)) return new(OpCode.Create, ErrorCode.NodeExists, c.Path);
        var node = new Znode(c.Data, c.Acl)
        {
            Czxid = zxid, Mzxid = zxid, Pzxid = zxid, Ctime = time, Mtime = time, EphemeralOwner = c.EphemeralOwner,
        };
        _nodes[c.Path] = node;
        parent.AddChild(PathUtils.Name(c.Path));
        if (c.ParentCversion > parent.Cversion) parent.Cversion = c.ParentCversion;
        parent.Pzxid = zxid;
        Track(c.Path, c.EphemeralOwner);
        Watches.Trigger(c.Path, EventType.NodeCreated);
        Watches.Trigger(parentPath, EventType.NodeChildrenChanged);
        return new(OpCode.Create, ErrorCode.Ok, c.Path, node.ToStat(ExtendedTypes));
    }

    /// <summary>Files a node under the sets the server's cleanup walks: containers, TTL nodes, a session's ephemerals.</summary>
    private void Track(string path, long owner)
    {
        switch (EphemeralType.Get(owner, ExtendedTypes))
        {
            case EphemeralKind.Container: Containers.Add(path); break;
            case EphemeralKind.Ttl: Ttls.Add(path); break;
            case EphemeralKind.Normal:
                if (!_ephemerals.TryGetValue(owner, out var set)) _ephemerals[owner] = set = new(StringComparer.Ordinal);
                set.Add(path);
                break;
        }
    }

    private ApplyResult DeleteNode(string path, long zxid)
    {
        if (!_nodes.Remove(path, out var node)) return new(OpCode.Delete, ErrorCode.NoNode, path);
        var parentPath = PathUtils.Parent(path);
        if (_nodes.TryGetValue(parentPath, out var parent))
        {
            parent.RemoveChild(PathUtils.Name(path));
            if (zxid > parent.Pzxid) parent.Pzxid = zxid;
        }
        switch (EphemeralType.Get(node.EphemeralOwner, ExtendedTypes))
        {
            case EphemeralKind.Container: Containers.Remove(path); break;
            case EphemeralKind.Ttl: Ttls.Remove(path); break;
            case EphemeralKind.Normal:
                if (_ephemerals.TryGetValue(node.EphemeralOwner, out var set) && set.Remove(path) && set.Count == 0)
                    _ephemerals.Remove(node.EphemeralOwner);
                break;
        }
        Watches.Trigger(path, EventType.NodeDeleted);
        Watches.Trigger(parentPath, EventType.NodeChildrenChanged);
        return new(OpCode.Delete, ErrorCode.Ok, path);
    }

    // ---- snapshots ----

    /// <summary>A consistent image of the tree as of <see cref="LastZxid"/>, to be encoded on another thread.</summary>
    public TreeImage Capture() => TreeImage.Capture(LastZxid, _nodes);

    public void Serialize(JuteWriter w) => Capture().Write(w);

    /// <summary>Reads what <see cref="TreeImage.Write"/> wrote: every parent comes before its children.</summary>
    public static DataTree Deserialize(ref JuteReader r, bool extendedTypes)
    {
        var tree = new DataTree(extendedTypes);
        tree._nodes.Clear();
        tree.LastZxid = r.ReadLong();
        int count = r.ReadInt();
        for (int i = 0; i < count; i++)
        {
            var path = r.ReadString()!;
            var node = new Znode(r.ReadBuffer(), Acl.ReadList(ref r))
            {
                Czxid = r.ReadLong(), Mzxid = r.ReadLong(), Pzxid = r.ReadLong(), Ctime = r.ReadLong(), Mtime = r.ReadLong(),
                Version = r.ReadInt(), Cversion = r.ReadInt(), Aversion = r.ReadInt(), EphemeralOwner = r.ReadLong(),
            };
            tree._nodes[path] = node;
            if (path != "/") tree._nodes[PathUtils.Parent(path)].AddChild(PathUtils.Name(path));
            tree.Track(path, node.EphemeralOwner);
        }
        return tree;
    }

    /// <summary>Every node path, for the dump four-letter word and tests.</summary>
    public IEnumerable<string> Paths => _nodes.Keys;
}
