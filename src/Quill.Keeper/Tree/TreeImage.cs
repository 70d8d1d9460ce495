using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tree;

/// <summary>
/// The tree as of one zxid, taken on the owner thread by <see cref="DataTree.Capture"/> and encoded on another. It
/// copies each node's fields and keeps references to its data and ACL, which are safe to share: the tree never
/// changes a data array or an ACL list in place, it replaces them. Taking it is one walk over the tree with no
/// encoding and one array, so the owner pauses for a fraction of what serializing would cost.
/// </summary>
public sealed class TreeImage
{
    private readonly Entry[] _nodes;

    /// <summary>An image of nodes already in an order that puts every parent before its children.</summary>
    internal TreeImage(long zxid, Entry[] nodes)
    {
        Zxid = zxid;
        _nodes = nodes;
    }

    /// <summary>The last txn the image holds: every txn up to it and none after.</summary>
    public long Zxid { get; }
    public int NodeCount => _nodes.Length;

    internal readonly record struct Entry(string Path, byte[]? Data, IReadOnlyList<Acl> Acl, long Czxid, long Mzxid,
        long Pzxid, long Ctime, long Mtime, int Version, int Cversion, int Aversion, long EphemeralOwner);

    /// <summary>
    /// Walks the tree from the root in pre-order, as ZooKeeper serializes it: each node comes before its children,
    /// which is the order <see cref="DataTree.Deserialize"/> needs, with no sort. A child's path is looked up from a
    /// reused buffer, so the walk allocates no string: the image keeps the table's own keys.
    /// </summary>
    internal static TreeImage Capture(long zxid, Dictionary<string, Znode> table)
    {
        var nodes = new Entry[table.Count];
        var byPath = table.GetAlternateLookup<ReadOnlySpan<char>>();
        var pending = new Stack<(string Path, Znode Node)>();
        pending.Push(("/", table["/"]));
        var buffer = new char[256];
        int count = 0;
        while (pending.TryPop(out var top))
        {
            var (path, n) = top;
            nodes[count++] = new(path, n.Data, n.Acl, n.Czxid, n.Mzxid, n.Pzxid, n.Ctime, n.Mtime, n.Version, n.Cversion, n.Aversion, n.EphemeralOwner);
            int prefix = path == "/" ? 0 : path.Length;
            foreach (var name in n.Children)
            {
                int length = prefix + 1 + name.Length;
                if (buffer.Length < length) buffer = new char[Math.Max(length, buffer.Length * 2)];
                path.AsSpan(0, prefix).CopyTo(buffer);
                buffer[prefix] = '/';
                name.CopyTo(buffer.AsSpan(prefix + 1));
                if (!byPath.TryGetValue(buffer.AsSpan(0, length), out var childPath, out var child))
                    throw new InvalidOperationException($"{path} lists a child {name} that is not in the tree");
                pending.Push((childPath, child));
            }
        }
        if (count != nodes.Length) throw new InvalidOperationException($"{nodes.Length - count} nodes are not reachable from the root");
        return new TreeImage(zxid, nodes);
    }

    /// <summary>Encodes as <see cref="DataTree.Deserialize"/> reads: the zxid, the count, then the nodes in walk order.</summary>
    public void Write(JuteWriter w)
    {
        w.WriteLong(Zxid);
        w.WriteInt(_nodes.Length);
        foreach (var n in _nodes)
        {
            w.WriteString(n.Path); w.WriteBuffer(n.Data); Acl.WriteList(w, n.Acl.ToList());
            w.WriteLong(n.Czxid); w.WriteLong(n.Mzxid); w.WriteLong(n.Pzxid); w.WriteLong(n.Ctime); w.WriteLong(n.Mtime);
            w.WriteInt(n.Version); w.WriteInt(n.Cversion); w.WriteInt(n.Aversion); w.WriteLong(n.EphemeralOwner);
        }
    }
}
