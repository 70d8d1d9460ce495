using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tree;

/// <summary>
/// The tree as of one zxid, taken on the owner thread by <see cref="DataTree.Capture"/> and encoded on another. It
/// copies each node's fields and keeps references to its data and ACL, which are safe to share: the tree never
/// changes a data array or an ACL list in place, it replaces them. Taking it is a walk over the node table with no
/// encoding and one array, so the owner pauses for a fraction of what serializing would cost.
/// </summary>
public sealed class TreeImage
{
    private readonly Entry[] _nodes;

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
    /// Encodes as <see cref="DataTree.Deserialize"/> reads: the zxid, the count, then the nodes parents first (an
    /// ordinal sort puts every path after its parent, which is a prefix of it).
    /// </summary>
    public void Write(JuteWriter w)
    {
        Array.Sort(_nodes, static (a, b) => string.CompareOrdinal(a.Path, b.Path));
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
