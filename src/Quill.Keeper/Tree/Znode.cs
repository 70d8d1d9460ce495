using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tree;

/// <summary>
/// One node of the data tree. Mutated only by the request processor's owner thread, so it carries no locks.
/// </summary>
public sealed class Znode(byte[] data, IReadOnlyList<Acl> acl)
{
    public byte[] Data = data;
    public IReadOnlyList<Acl> Acl = acl;
    public long Czxid, Mzxid, Pzxid, Ctime, Mtime;
    public int Version, Cversion, Aversion;
    /// <summary>Session id for ephemerals; ZooKeeper's encodings for containers and TTL nodes (see <see cref="EphemeralType"/>).</summary>
    public long EphemeralOwner;
    public readonly HashSet<string> Children = new(StringComparer.Ordinal);

    public Stat ToStat() => new(Czxid, Mzxid, Ctime, Mtime, Version, Cversion, Aversion, EphemeralOwner, Data.Length, Children.Count, Pzxid);
}
