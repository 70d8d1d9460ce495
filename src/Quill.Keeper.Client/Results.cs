using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

/// <summary>A znode's data and metadata. A null payload reads as empty, with <see cref="IsNull"/> set.</summary>
public sealed record NodeData(byte[] Data, Stat Stat)
{
    /// <summary>The node was created (or set) with null data rather than an empty array.</summary>
    public bool IsNull { get; init; }
}

/// <summary>A znode's children (names, not paths) and its metadata.</summary>
public sealed record NodeChildren(IReadOnlyList<string> Children, Stat Stat);

public sealed record NodeAcl(IReadOnlyList<Acl> Acl, Stat Stat);

/// <summary>The path a create produced (with its sequence suffix, if any) and the new node's metadata.</summary>
public sealed record CreatedNode(string Path, Stat Stat);
