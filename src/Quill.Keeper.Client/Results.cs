using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

/// <summary>A znode's data and metadata (a null payload reads as empty).</summary>
public sealed record NodeData(byte[] Data, Stat Stat);

/// <summary>A znode's children (names, not paths) and its metadata.</summary>
public sealed record NodeChildren(IReadOnlyList<string> Children, Stat Stat);

public sealed record NodeAcl(IReadOnlyList<Acl> Acl, Stat Stat);

/// <summary>The path a create produced (with its sequence suffix, if any) and the new node's metadata.</summary>
public sealed record CreatedNode(string Path, Stat Stat);
