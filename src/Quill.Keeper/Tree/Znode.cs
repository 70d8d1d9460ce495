using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tree;

/// <summary>
/// One node of the data tree. Mutated only by the request processor's owner thread, so it carries no locks.
/// </summary>
public sealed class Znode(byte[]? data, IReadOnlyList<Acl> acl)
{
    /// <summary>Null when the client sent null: ZooKeeper hands null back, not an empty array.</summary>
    public byte[]? Data = data;
    public IReadOnlyList<Acl> Acl = acl;
    public long Czxid, Mzxid, Pzxid, Ctime, Mtime;
    public int Version, Aversion;
    /// <summary>
    /// Counts creates of children only, as ZooKeeper stores it: sequential names come from it. Clients see
    /// creates + deletes, which is 2 * Cversion - children (see <see cref="ToStat"/>).
    /// </summary>
    public int Cversion;
    /// <summary>Session id for ephemerals; ZooKeeper's encodings for containers and TTL nodes (see <see cref="EphemeralType"/>).</summary>
    public long EphemeralOwner;
    // Most nodes are leaves: their set is made on the first child, so a leaf costs no set (less to copy in every GC).
    private HashSet<string>? _children;
    private static readonly HashSet<string> NoChildren = [];

    /// <summary>Child names; change them through <see cref="AddChild"/> and <see cref="RemoveChild"/>.</summary>
    public IReadOnlyCollection<string> Children => _children ?? NoChildren;
    public int ChildCount => _children?.Count ?? 0;
    public void AddChild(string name) => (_children ??= new(StringComparer.Ordinal)).Add(name);
    public void RemoveChild(string name) => _children?.Remove(name);

    public Stat ToStat(bool extendedTypes) => new(Czxid, Mzxid, Ctime, Mtime, Version, Cversion * 2 - ChildCount, Aversion,
        ClientEphemeralOwner(extendedTypes), Data?.Length ?? 0, ChildCount, Pzxid);

    /// <summary>Clients see 0 as the owner of containers and TTL nodes; only real ephemerals show their session.</summary>
    private long ClientEphemeralOwner(bool extendedTypes) =>
        EphemeralType.Get(EphemeralOwner, extendedTypes) == EphemeralKind.Normal ? EphemeralOwner : 0;
}
