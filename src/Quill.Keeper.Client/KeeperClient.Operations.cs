using Quill.Keeper.Client.Connection;
using Quill.Keeper.Client.Watches;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

// The znode operations. Each validates its path, applies the chroot, and throws KeeperException with the
// server's error code when the server refuses.
public sealed partial class KeeperClient
{
    private static readonly ReplyDecoder<string> ReadCreatedPath = static (ref JuteReader r) => CreateResponse.Read(ref r).Path;
    private static readonly ReplyDecoder<Create2Response> ReadCreated = static (ref JuteReader r) => Create2Response.Read(ref r);
    private static readonly ReplyDecoder<Stat> ReadStat = static (ref JuteReader r) => Stat.Read(ref r);
    private static readonly ReplyDecoder<Stat?> ReadOptionalStat = static (ref JuteReader r) => Stat.Read(ref r);
    private static readonly ReplyDecoder<GetDataResponse> ReadData = static (ref JuteReader r) => GetDataResponse.Read(ref r);
    private static readonly ReplyDecoder<List<string>> ReadStrings = static (ref JuteReader r) => r.ReadStringVector();
    private static readonly ReplyDecoder<GetChildren2Response> ReadChildren2 = static (ref JuteReader r) => GetChildren2Response.Read(ref r);
    private static readonly ReplyDecoder<GetAclResponse> ReadAcl = static (ref JuteReader r) => GetAclResponse.Read(ref r);
    private static readonly ReplyDecoder<int> ReadInt = static (ref JuteReader r) => r.ReadInt();
    private static readonly ReplyDecoder<List<ClientInfo>> ReadClientInfo = static (ref JuteReader r) => WhoAmIResponse.Read(ref r).ClientInfo;

    /// <summary>
    /// Creates a znode and returns its path (for sequential modes, with the suffix the server appended).
    /// <paramref name="acl"/> defaults to open (world:anyone, all). <paramref name="ttl"/> (ms) is required by the TTL
    /// modes and refused by the others.
    /// </summary>
    public async Task<string> CreateAsync(string path, byte[]? data, IReadOnlyList<Acl>? acl = null,
        CreateMode mode = CreateMode.Persistent, long ttl = -1, CancellationToken cancellationToken = default)
    {
        var request = CreateRequestFor(path, data, acl, mode, ttl);
        var op = CreateOpCode(mode, withStat: false);
        string created = op == OpCode.Create
            ? await SendAsync(op, request, ReadCreatedPath, path, cancellationToken)
            : (await SendAsync(op, request, ReadCreated, path, cancellationToken)).Path;
        return _chroot.ToClient(created);
    }

    /// <summary>Like <see cref="CreateAsync"/> but also returns the new node's Stat (the create2 request).</summary>
    public async Task<CreatedNode> CreateWithStatAsync(string path, byte[]? data, IReadOnlyList<Acl>? acl = null,
        CreateMode mode = CreateMode.Persistent, long ttl = -1, CancellationToken cancellationToken = default)
    {
        var request = CreateRequestFor(path, data, acl, mode, ttl);
        var response = await SendAsync(CreateOpCode(mode, withStat: true), request, ReadCreated, path, cancellationToken);
        return new CreatedNode(_chroot.ToClient(response.Path), response.Stat);
    }

    /// <summary>Creates a container: a node the server deletes once its last child is gone.</summary>
    public Task<string> CreateContainerAsync(string path, byte[]? data, IReadOnlyList<Acl>? acl = null,
        CancellationToken cancellationToken = default) =>
        CreateAsync(path, data, acl, CreateMode.Container, -1, cancellationToken);

    /// <summary>Deletes a node if its version is <paramref name="version"/> (-1: any version).</summary>
    public Task DeleteAsync(string path, int version = -1, CancellationToken cancellationToken = default) =>
        SendAsync<bool>(OpCode.Delete, new DeleteRequest(ServerPath(path), version), null, path, cancellationToken);

    /// <summary>
    /// The node's Stat, or null if it does not exist. A watcher fires on the node's creation, deletion or data
    /// change — whether or not it exists now.
    /// </summary>
    public Task<Stat?> ExistsAsync(string path, Action<WatchedEvent>? watcher = null, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.Exists, new PathWatchRequest(ServerPath(path), watcher is not null), ReadOptionalStat, path,
            cancellationToken, Registration(WatchKind.Exist, path, watcher), noNodeIsDefault: true);

    /// <summary>The node's data and Stat. A watcher fires once on its next data change or deletion.</summary>
    public async Task<NodeData> GetDataAsync(string path, Action<WatchedEvent>? watcher = null, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(OpCode.GetData, new PathWatchRequest(ServerPath(path), watcher is not null), ReadData, path,
            cancellationToken, Registration(WatchKind.Data, path, watcher));
        return new NodeData(response.Data ?? [], response.Stat) { IsNull = response.Data is null };
    }

    /// <summary>
    /// Changes the ensemble's membership (ZooKeeper's reconfig; needs a super user): joining server lines and leaving
    /// ids, or the whole new membership; <paramref name="fromConfig"/> is the config version expected (-1: any).
    /// Answers the new config (/zookeeper/config's data and stat).
    /// </summary>
    public async Task<NodeData> ReconfigAsync(string? joining, string? leaving, string? newMembers, long fromConfig = -1, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(OpCode.Reconfig, new ReconfigRequest(joining, leaving, newMembers, fromConfig), ReadData, "/zookeeper/config", cancellationToken);
        return new NodeData(response.Data ?? [], response.Stat);
    }

    /// <summary>Replaces the node's data if its version is <paramref name="version"/> (-1: any version).</summary>
    public Task<Stat> SetDataAsync(string path, byte[]? data, int version = -1, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.SetData, new SetDataRequest(ServerPath(path), data, version), ReadStat, path, cancellationToken);

    public async Task<NodeAcl> GetAclAsync(string path, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(OpCode.GetAcl, new PathRequest(ServerPath(path)), ReadAcl, path, cancellationToken);
        return new NodeAcl(response.Acl, response.Stat);
    }

    /// <summary>Replaces the node's ACL if its ACL version (Stat.Aversion) is <paramref name="aclVersion"/> (-1: any).</summary>
    public Task<Stat> SetAclAsync(string path, IReadOnlyList<Acl> acl, int aclVersion = -1, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.SetAcl, new SetAclRequest(ServerPath(path), [.. acl], aclVersion), ReadStat, path, cancellationToken);

    /// <summary>The names of the node's children, in no particular order. A watcher fires once when the list changes or the node is deleted.</summary>
    public async Task<IReadOnlyList<string>> GetChildrenAsync(string path, Action<WatchedEvent>? watcher = null,
        CancellationToken cancellationToken = default) =>
        await SendAsync(OpCode.GetChildren, new PathWatchRequest(ServerPath(path), watcher is not null), ReadStrings, path,
            cancellationToken, Registration(WatchKind.Child, path, watcher));

    /// <summary>Children plus the parent's Stat (the getChildren2 request).</summary>
    public async Task<NodeChildren> GetChildrenWithStatAsync(string path, Action<WatchedEvent>? watcher = null,
        CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(OpCode.GetChildren2, new PathWatchRequest(ServerPath(path), watcher is not null), ReadChildren2,
            path, cancellationToken, Registration(WatchKind.Child, path, watcher));
        return new NodeChildren(response.Children, response.Stat);
    }

    /// <summary>Waits until the server this client talks to has applied every write the leader committed before.</summary>
    public Task SyncAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.Sync, new PathRequest(ServerPath(path)), ReadCreatedPath, path, cancellationToken);

    /// <summary>The number of nodes below <paramref name="path"/>, at any depth.</summary>
    public Task<int> GetAllChildrenNumberAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync(OpCode.GetAllChildrenNumber, new PathRequest(ServerPath(path)), ReadInt, path, cancellationToken);

    /// <summary>The paths of this session's ephemeral nodes that start with <paramref name="prefixPath"/>.</summary>
    public async Task<IReadOnlyList<string>> GetEphemeralsAsync(string prefixPath = "/", CancellationToken cancellationToken = default)
    {
        var paths = await SendAsync(OpCode.GetEphemerals, new PathRequest(ServerPath(prefixPath)), ReadStrings, prefixPath, cancellationToken);
        // The server matches the prefix as a string, so under a chroot "/app" it also finds "/apple/...": keep ours.
        return paths.Where(_chroot.Contains).Select(_chroot.ToClient).ToList();
    }

    /// <summary>The identities the server has for this connection (ip, digest user, ...).</summary>
    public async Task<IReadOnlyList<ClientInfo>> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        await SendAsync(OpCode.WhoAmI, null, ReadClientInfo, null, cancellationToken);

    /// <summary>
    /// Adds credentials to this connection, e.g. <c>AddAuthAsync("digest", "user:password"u8.ToArray())</c>. They
    /// are re-sent on every reconnect. Fails with AuthFailed when the server rejects them.
    /// </summary>
    public async Task AddAuthAsync(string scheme, byte[] auth, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(scheme);
        var packet = new AuthPacket(0, scheme, auth);
        lock (_credentials) _credentials.Add(packet);
        await SendAsync<bool>(OpCode.Auth, packet, null, null, cancellationToken, xid: Xids.Auth);
    }

    /// <summary>Validates a caller path and maps it into the chroot.</summary>
    private string ServerPath(string path, bool isSequential = false)
    {
        if (PathUtils.Validate(path, isSequential) is { } reason)
            throw new ArgumentException($"invalid path '{path}': {reason}", nameof(path));
        return _chroot.ToServer(path);
    }

    private static WatchRegistration? Registration(WatchKind kind, string path, Action<WatchedEvent>? watcher) =>
        watcher is null ? null : new WatchRegistration(kind, path, watcher);

    private CreateRequest CreateRequestFor(string path, byte[]? data, IReadOnlyList<Acl>? acl, CreateMode mode, long ttl)
    {
        ValidateTtl(mode, ttl);
        return new CreateRequest(ServerPath(path, mode.IsSequential()), data, [.. acl ?? Acl.OpenAclUnsafe], (int)mode, mode.IsTtl() ? ttl : -1);
    }

    internal static void ValidateTtl(CreateMode mode, long ttl)
    {
        // The server packs a TTL into the ephemeralOwner field, leaving it 40 bits.
        const long maxTtl = 0xFF_FFFF_FFFF;
        if (mode.IsTtl() && ttl is <= 0 or > maxTtl)
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, $"{mode} needs a TTL in 1..{maxTtl} ms");
        if (!mode.IsTtl() && ttl >= 0)
            throw new ArgumentException($"a TTL is only valid with the TTL create modes, not {mode}", nameof(ttl));
    }

    /// <summary>Which create request carries a mode: containers and TTL nodes have their own (as in the Java client).</summary>
    internal static OpCode CreateOpCode(CreateMode mode, bool withStat) =>
        mode.IsContainer() ? OpCode.CreateContainer
        : mode.IsTtl() ? OpCode.CreateTtl
        : withStat ? OpCode.Create2 : OpCode.Create;
}
