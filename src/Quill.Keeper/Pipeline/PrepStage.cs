using Microsoft.Extensions.Logging;
using Quill.Keeper.Auth;
using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

/// <summary>
/// The first stage (ZooKeeper's PrepRequestProcessor): checks each write the way ZooKeeper checks it, in the same
/// order, so the same bad request gets the same error code, against <see cref="PendingChanges"/> (the tree as it will
/// be once every accepted txn is applied); an accepted write becomes a txn with the next zxid. Every write then moves
/// on to the next stage, rejected ones too (as markers without a txn) so that their answers keep their place.
/// Runs on the processor's owner thread: it reads the tree and owns the pending changes and the zxid counter.
/// </summary>
public sealed class PrepStage(KeeperOptions options, DataTree tree, PendingChanges pending, IRequestStage next,
    TimeProvider time, ILogger log)
{
    private readonly KeeperOptions _options = options;
    private readonly PendingChanges _pending = pending;
    private long _lastAcceptedZxid = tree.LastZxid;

    /// <summary>
    /// The leader's part of a reconfig (set on an ensemble's leader only): checks the request against the ensemble
    /// and returns the new membership's text for the zxid. Elsewhere a reconfig is unimplemented, as on a standalone
    /// ZooKeeper.
    /// </summary>
    public Func<ReconfigRequest, long, byte[]>? Reconfigure { get; set; }

    /// <summary>A new leader counts from its epoch: the next txn gets zxid epoch &lt;&lt; 32 | 1.</summary>
    public void StartEpoch(long epoch) => _lastAcceptedZxid = Math.Max(_lastAcceptedZxid, epoch << 32);

    /// <summary>Validates a write, makes it a txn (or an answer-in-turn marker) and passes it to the next stage.</summary>
    public void Submit(Request request)
    {
        request.Time = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (request.Error != ErrorCode.Ok)
        {
            // Refused before it got here (a forwarded request of a session that is gone): answered in turn.
            request.State = RequestState.InFlight;
            next.Submit(request);
            return;
        }
        try
        {
            if (request.Type == OpCode.CloseSession) request.Session.Closing = true; // nothing more from this session is accepted
            long zxid = _lastAcceptedZxid + 1;
            var txn = Prepare(request, zxid);
            if (txn is MultiTxn { Failed: true } failed)
                request.FailedMulti = failed; // answered at commit, with the zxid of that moment
            else if (txn is not null)
            {
                request.Txn = txn;
                request.Zxid = zxid;
                _lastAcceptedZxid = zxid;
            }
        }
        catch (KeeperException e)
        {
            request.Error = e.Code;
        }
        catch (JuteException e)
        {
            log.LogWarning("Malformed {Type} request from session 0x{Session:x}: {Reason}", request.Type, request.Session.Id, e.Message);
            request.Error = ErrorCode.MarshallingError;
        }
        request.State = RequestState.InFlight;
        next.Submit(request);
    }

    /// <summary>A new session's handshake: its createSession txn needs no checks.</summary>
    public void SubmitCreateSession(Request request, int timeoutMs)
    {
        request.Time = time.GetUtcNow().ToUnixTimeMilliseconds();
        request.Txn = new CreateSessionTxn(timeoutMs);
        request.Zxid = ++_lastAcceptedZxid;
        request.State = RequestState.InFlight;
        next.Submit(request);
    }

    private Txn? Prepare(Request request, long zxid)
    {
        var r = new JuteReader(request.Body);
        switch (request.Type)
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl:
                return PrepareCreate(request, CreateRequest.Read(ref r, request.Type == OpCode.CreateTtl), request.Type, zxid);
            case OpCode.Delete or OpCode.DeleteContainer:
                return PrepareDelete(request, DeleteRequest.Read(ref r), zxid);
            case OpCode.SetData:
                return PrepareSetData(request, SetDataRequest.Read(ref r), zxid);
            case OpCode.SetAcl:
                return PrepareSetAcl(request, SetAclRequest.Read(ref r), zxid);
            case OpCode.Check:
                return PrepareCheck(request, CheckVersionRequest.Read(ref r));
            case OpCode.Multi:
                return PrepareMulti(request, ref r, zxid);
            case OpCode.CloseSession:
                return PrepareCloseSession(request.Session.Id, zxid);
            case OpCode.Sync:
                PathRequest.Read(ref r);
                return null;
            case OpCode.Reconfig:
                return PrepareReconfig(request, ReconfigRequest.Read(ref r), zxid);
            default:
                throw new KeeperException(ErrorCode.Unimplemented);
        }
    }

    /// <summary>Who the request acts as: its connection's identities, or super for the server's own requests.</summary>
    internal static IReadOnlyList<Id> AuthOf(Request request) => request.Auth ?? request.Connection?.AuthIds ?? SuperIds;
    private static readonly IReadOnlyList<Id> SuperIds = [new Id("super", "")];

    /// <summary>ZooKeeper's checkACL; with skipACL nothing is checked.</summary>
    private void CheckAcl(Request request, IReadOnlyList<Acl> acl, Perms perm, string path)
    {
        if (!_options.SkipAcl && !Acls.Allows(acl, AuthOf(request), perm)) throw new KeeperException(ErrorCode.NoAuth, path);
    }

    internal static void ValidatePath(string path, bool sequential = false)
    {
        if (PathUtils.Validate(path, sequential) is not null) throw new KeeperException(ErrorCode.BadArguments, path);
    }

    private static int CheckVersion(int current, int expected, string path)
    {
        if (expected != -1 && expected != current) throw new KeeperException(ErrorCode.BadVersion, path);
        return current + 1;
    }

    private NodeView GetNode(string path) => _pending.Get(path) ?? throw new KeeperException(ErrorCode.NoNode, path);
    private NodeView GetNodeForChange(string path) => _pending.GetForChange(path) ?? throw new KeeperException(ErrorCode.NoNode, path);

    private static bool IsSpecialPath(string path) => path is "/" or "/zookeeper" or "/zookeeper/quota" or "/zookeeper/config";

    /// <summary>ZooKeeper's validatePathForCreate / getParentPathAndValidate: only a missing slash or a NUL fails here.</summary>
    private static string ParentOf(string path)
    {
        int slash = path.LastIndexOf('/');
        if (slash < 0 || path.Contains('\0')) throw new KeeperException(ErrorCode.BadArguments, path);
        return slash == 0 ? "/" : path[..slash];
    }

    private CreateTxn PrepareCreate(Request request, CreateRequest create, OpCode type, long zxid)
    {
        if (!CreateModes.IsValid(create.Flags)) throw new KeeperException(ErrorCode.BadArguments, create.Path);
        var mode = (CreateMode)create.Flags;
        if (mode.IsTtl() && !_options.ExtendedTypesEnabled) throw new KeeperException(ErrorCode.Unimplemented, create.Path);
        if (mode.IsTtl() ? create.Ttl <= 0 || create.Ttl > EphemeralType.MaxTtl : create.Ttl >= 0)
            throw new KeeperException(ErrorCode.BadArguments, create.Path);

        string path = create.Path;
        string parentPath = ParentOf(path);
        var acl = Acls.Fixup(create.Acl, AuthOf(request)) ?? throw new KeeperException(ErrorCode.InvalidAcl, path);
        var parent = GetNodeForChange(parentPath);
        CheckAcl(request, parent.Acl, Perms.Create, path);
        if (mode.IsSequential()) path += parent.Cversion.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);
        ValidatePath(path);
        if (_pending.Get(path) is not null) throw new KeeperException(ErrorCode.NodeExists, path);
        if (EphemeralType.Get(parent.EphemeralOwner, _options.ExtendedTypesEnabled) == EphemeralKind.Normal)
            throw new KeeperException(ErrorCode.NoChildrenForEphemerals, path);

        // As in ZooKeeper, the opcode decides container and TTL; the flags decide ephemeral and sequential.
        long owner = type == OpCode.CreateContainer ? EphemeralType.ContainerOwner
            : type == OpCode.CreateTtl ? EphemeralType.TtlOwner(create.Ttl)
            : mode.IsEphemeral() ? request.Session.Id : 0;
        int parentCversion = parent.Cversion + 1;
        var parentView = parent;
        parentView.Cversion = parentCversion;
        parentView.ChildCount++;
        _pending.Put(parentView, zxid);
        _pending.Put(new NodeView { Path = path, Exists = true, EphemeralOwner = owner, Acl = acl }, zxid);
        return new CreateTxn(path, create.Data, acl, owner, parentCversion);
    }

    private DeleteTxn? PrepareDelete(Request request, DeleteRequest delete, long zxid)
    {
        string path = delete.Path;
        string parentPath = ParentOf(path);
        if (IsSpecialPath(path)) throw new KeeperException(ErrorCode.BadArguments, path);
        var parent = GetNode(parentPath);
        CheckAcl(request, parent.Acl, Perms.Delete, path);
        var node = GetNode(path);
        CheckVersion(node.Version, delete.Version, path);
        if (node.ChildCount > 0) throw new KeeperException(ErrorCode.NotEmpty, path);
        MarkDeleted(node, parent, zxid);
        return new DeleteTxn(path);
    }

    private void MarkDeleted(NodeView node, NodeView parent, long zxid)
    {
        var parentView = parent.Clone();
        parentView.ChildCount--;
        _pending.Put(parentView, zxid);
        var gone = node.Clone();
        gone.Exists = false;
        _pending.Put(gone, zxid);
    }

    private SetDataTxn PrepareSetData(Request request, SetDataRequest set, long zxid)
    {
        ValidatePath(set.Path);
        var view = GetNodeForChange(set.Path);
        CheckAcl(request, view.Acl, Perms.Write, set.Path);
        int newVersion = CheckVersion(view.Version, set.Version, set.Path);
        view.Version = newVersion;
        _pending.Put(view, zxid);
        return new SetDataTxn(set.Path, set.Data, newVersion);
    }

    private SetAclTxn PrepareSetAcl(Request request, SetAclRequest set, long zxid)
    {
        ValidatePath(set.Path);
        var acl = Acls.Fixup(set.Acl, AuthOf(request)) ?? throw new KeeperException(ErrorCode.InvalidAcl, set.Path);
        var node = GetNode(set.Path);
        CheckAcl(request, node.Acl, Perms.Admin, set.Path);
        int newVersion = CheckVersion(node.Aversion, set.Version, set.Path);
        var view = node.Clone();
        view.Aversion = newVersion;
        view.Acl = acl;
        _pending.Put(view, zxid);
        return new SetAclTxn(set.Path, acl, newVersion);
    }

    private CheckTxn PrepareCheck(Request request, CheckVersionRequest check)
    {
        ValidatePath(check.Path);
        var node = GetNode(check.Path);
        CheckAcl(request, node.Acl, Perms.Read, check.Path);
        CheckVersion(node.Version, check.Version, check.Path);
        return new CheckTxn(check.Path, check.Version);
    }

    /// <summary>
    /// All or nothing: each op sees the ones before it; when one fails, the pending view is rolled back and the
    /// answer lists Ok for the ops before it, its error, and RuntimeInconsistency for the ops after it, as ZooKeeper does.
    /// </summary>
    private MultiTxn PrepareMulti(Request request, ref JuteReader r, long zxid)
    {
        var txns = new List<Txn>();
        var types = new List<OpCode>();
        request.MultiOpTypes = types;
        ErrorCode failure = ErrorCode.Ok;
        bool complete = false;
        _pending.BeginMulti();
        try
        {
            while (true)
            {
                var header = MultiHeader.Read(ref r);
                if (header.Done) break;
                if (failure != ErrorCode.Ok)
                {
                    SkipMultiOp(header.Type, ref r);
                    txns.Add(new ErrorTxn(ErrorCode.RuntimeInconsistency));
                    continue;
                }
                try
                {
                    txns.Add(header.Type switch
                    {
                        OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl =>
                            PrepareCreate(request, CreateRequest.Read(ref r, header.Type == OpCode.CreateTtl), header.Type, zxid),
                        OpCode.Delete => PrepareDelete(request, DeleteRequest.Read(ref r), zxid)!,
                        OpCode.SetData => PrepareSetData(request, SetDataRequest.Read(ref r), zxid),
                        OpCode.Check => PrepareCheck(request, CheckVersionRequest.Read(ref r)),
                        _ => throw new KeeperException(ErrorCode.Unimplemented),
                    });
                    types.Add(header.Type);
                }
                catch (KeeperException e)
                {
                    failure = e.Code;
                    for (int i = 0; i < txns.Count; i++) txns[i] = new ErrorTxn(ErrorCode.Ok);
                    txns.Add(new ErrorTxn(e.Code));
                }
            }
            complete = true;
        }
        finally
        {
            // A malformed multi (JuteException) rolls back too: none of its ops will ever be applied.
            _pending.EndMulti(rollback: !complete || failure != ErrorCode.Ok);
        }
        return new MultiTxn(txns);
    }

    /// <summary>
    /// ZooKeeper's order: reconfigEnabled, then the ensemble's checks (in progress, version, the new membership, a
    /// synced quorum of it), then the WRITE permission on /zookeeper/config, which only a super user has.
    /// </summary>
    private ReconfigTxn PrepareReconfig(Request request, ReconfigRequest reconfig, long zxid)
    {
        if (!_options.Quorum.ReconfigEnabled)
        {
            log.LogWarning("Reconfig from session 0x{Session:x} refused: reconfigEnabled is false", request.Session.Id);
            throw new KeeperException(ErrorCode.ReconfigDisabled);
        }
        var configure = Reconfigure ?? throw new KeeperException(ErrorCode.Unimplemented);
        byte[] config = configure(reconfig, zxid);
        var node = GetNodeForChange(DataTree.ConfigPath);
        CheckAcl(request, node.Acl, Perms.Write, DataTree.ConfigPath);
        node.Version = -1;
        _pending.Put(node, zxid);
        return new ReconfigTxn(config);
    }

    internal static void SkipMultiOp(OpCode type, ref JuteReader r)
    {
        switch (type)
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl: CreateRequest.Read(ref r, type == OpCode.CreateTtl); break;
            case OpCode.Delete: DeleteRequest.Read(ref r); break;
            case OpCode.SetData: SetDataRequest.Read(ref r); break;
            case OpCode.Check: CheckVersionRequest.Read(ref r); break;
            default: throw new JuteException($"unknown op {type} in multi");
        }
    }

    /// <summary>
    /// Marks every ephemeral of the session deleted in the pending view: those in the tree and those its accepted
    /// creates will add (applying the close deletes whatever the session owns by then), so that later writes are
    /// judged against a view without them, as ZooKeeper's PrepRequestProcessor does.
    /// </summary>
    private CloseSessionTxn PrepareCloseSession(long sessionId, long zxid)
    {
        foreach (var path in tree.EphemeralsOf(sessionId).Union(_pending.PendingEphemeralsOf(sessionId), StringComparer.Ordinal).ToList())
        {
            var node = _pending.Get(path);
            var parent = _pending.Get(PathUtils.Parent(path));
            if (node is not null && parent is not null) MarkDeleted(node, parent, zxid);
        }
        return new CloseSessionTxn();
    }
}
