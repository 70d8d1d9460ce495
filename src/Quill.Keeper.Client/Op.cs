using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

/// <summary>
/// One operation of a transaction (<see cref="KeeperClient.MultiAsync"/>) or of a batched read
/// (<see cref="KeeperClient.MultiReadAsync"/>). Build them with the static factories.
/// </summary>
public abstract record Op(string Path)
{
    internal abstract OpCode Code { get; }
    internal abstract IJuteRecord ToRequest(string serverPath);
    internal virtual bool IsSequential => false;

    public static Op Create(string path, byte[]? data, IReadOnlyList<Acl>? acl = null, CreateMode mode = CreateMode.Persistent, long ttl = -1) =>
        new CreateOp(path, data, acl ?? Acl.OpenAclUnsafe, mode, ttl);

    public static Op Delete(string path, int version = -1) => new DeleteOp(path, version);
    public static Op SetData(string path, byte[]? data, int version = -1) => new SetDataOp(path, data, version);

    /// <summary>Succeeds only if the node exists at <paramref name="version"/> (-1: any version).</summary>
    public static Op Check(string path, int version) => new CheckOp(path, version);

    public static Op GetData(string path) => new GetDataOp(path);
    public static Op GetChildren(string path) => new GetChildrenOp(path);
}

public sealed record CreateOp(string Path, byte[]? Data, IReadOnlyList<Acl> Acl, CreateMode Mode, long Ttl) : Op(Path)
{
    internal override OpCode Code => KeeperClient.CreateOpCode(Mode, withStat: false);
    internal override bool IsSequential => Mode.IsSequential();
    internal override IJuteRecord ToRequest(string serverPath) =>
        new CreateRequest(serverPath, Data, [.. Acl], (int)Mode, Mode.IsTtl() ? Ttl : -1);
}

public sealed record DeleteOp(string Path, int Version) : Op(Path)
{
    internal override OpCode Code => OpCode.Delete;
    internal override IJuteRecord ToRequest(string serverPath) => new DeleteRequest(serverPath, Version);
}

public sealed record SetDataOp(string Path, byte[]? Data, int Version) : Op(Path)
{
    internal override OpCode Code => OpCode.SetData;
    internal override IJuteRecord ToRequest(string serverPath) => new SetDataRequest(serverPath, Data, Version);
}

public sealed record CheckOp(string Path, int Version) : Op(Path)
{
    internal override OpCode Code => OpCode.Check;
    internal override IJuteRecord ToRequest(string serverPath) => new CheckVersionRequest(serverPath, Version);
}

public sealed record GetDataOp(string Path) : Op(Path)
{
    internal override OpCode Code => OpCode.GetData;
    internal override IJuteRecord ToRequest(string serverPath) => new PathWatchRequest(serverPath, false);
}

public sealed record GetChildrenOp(string Path) : Op(Path)
{
    internal override OpCode Code => OpCode.GetChildren;
    internal override IJuteRecord ToRequest(string serverPath) => new PathWatchRequest(serverPath, false);
}

/// <summary>The outcome of one op of a multi, in the order the ops were given.</summary>
public abstract record OpResult;

/// <summary>Stat is present when the server used a create that returns one (container, TTL).</summary>
public sealed record CreateResult(string Path, Stat? Stat) : OpResult;
public sealed record DeleteResult : OpResult;
public sealed record SetDataResult(Stat Stat) : OpResult;
public sealed record CheckResult : OpResult;
public sealed record GetDataResult(byte[] Data, Stat Stat) : OpResult;
public sealed record GetChildrenResult(IReadOnlyList<string> Children) : OpResult;

/// <summary>
/// An op that did not apply. In a failed transaction the op that failed carries its error, the ops before it
/// <see cref="ErrorCode.Ok"/> (rolled back) and the ops after it <see cref="ErrorCode.RuntimeInconsistency"/> (not tried).
/// </summary>
public sealed record ErrorResult(ErrorCode Error) : OpResult;

/// <summary>A transaction failed: nothing was applied. <see cref="Results"/> tells which op failed and why.</summary>
public sealed class KeeperMultiException(ErrorCode code, string? path, IReadOnlyList<OpResult> results, int failedIndex)
    : KeeperException(code, path)
{
    public IReadOnlyList<OpResult> Results { get; } = results;

    /// <summary>Index of the op whose error is <see cref="KeeperException.Code"/>.</summary>
    public int FailedIndex { get; } = failedIndex;
}
