using System.Text;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Auth;
using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;

namespace Quill.Keeper.Pipeline;

// Requests that change no znode: reads, watch bookkeeping, auth and pings. Answered against the applied tree.
public sealed partial class RequestProcessor
{
    private void Answer(Request request)
    {
        request.State = RequestState.Answered;
        if (request.Connection is not { IsClosed: false })
        {
            // Its connection is gone (or was replaced): a read now would only leave watches on a dead connection.
            request.Connection?.RequestDone();
            return;
        }
        // Answered as soon as read: the answer goes out straight from the writer.
        ReadOnlySpan<byte> response;
        try
        {
            response = Read(request);
        }
        catch (KeeperException e)
        {
            response = WriteReply(request.Xid, Tree.LastZxid, e.Code, null);
        }
        catch (JuteException e)
        {
            _log.LogWarning("Malformed {Type} request from session 0x{Session:x}: {Reason}", request.Type, request.Session.Id, e.Message);
            response = WriteReply(request.Xid, Tree.LastZxid, ErrorCode.MarshallingError, null);
        }
        Send(request, response);
    }

    private ReadOnlySpan<byte> Read(Request request)
    {
        var r = new JuteReader(request.Body);
        var conn = request.Connection!;
        long zxid = Tree.LastZxid;
        switch (request.Type)
        {
            case OpCode.Ping:
                return WriteReply(Xids.Ping, zxid, ErrorCode.Ok, null);
            case OpCode.Exists:
            {
                var q = PathWatchRequest.Read(ref r);
                if (q.Path.Contains('\0')) throw new KeeperException(ErrorCode.BadArguments, q.Path);
                var node = Tree.Get(q.Path);
                if (q.Watch) Tree.Watches.AddDataWatch(q.Path, conn);
                if (node is null) throw new KeeperException(ErrorCode.NoNode, q.Path);
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, node.ToStat(Tree.ExtendedTypes));
            }
            case OpCode.GetData:
            {
                var q = PathWatchRequest.Read(ref r);
                var node = ReadableNode(request, q.Path, Perms.Read);
                if (q.Watch) Tree.Watches.AddDataWatch(q.Path, conn);
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, new DataAndStat(node.Data, node.ToStat(Tree.ExtendedTypes)));
            }
            case OpCode.GetChildren or OpCode.GetChildren2:
            {
                var q = PathWatchRequest.Read(ref r);
                var node = ReadableNode(request, q.Path, Perms.Read);
                if (q.Watch) Tree.Watches.AddChildWatch(q.Path, conn);
                var children = node.Children.ToList();
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, request.Type == OpCode.GetChildren
                    ? new GetChildrenResponse(children)
                    : new GetChildren2Response(children, node.ToStat(Tree.ExtendedTypes)));
            }
            case OpCode.GetAcl:
            {
                var q = PathRequest.Read(ref r);
                var node = ReadableNode(request, q.Path, Perms.Read | Perms.Admin);
                // Without ADMIN, digest hashes are masked, as ZooKeeper does since 3.6.
                bool admin = _options.SkipAcl || Acls.Allows(node.Acl, PrepStage.AuthOf(request), Perms.Admin);
                var acl = node.Acl.Select(a => admin || a.Id.Scheme != "digest" ? a
                    : new Acl(a.Perms, new Id("digest", a.Id.Ident.Split(':')[0] + ":x"))).ToList();
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, new GetAclResponse(acl, node.ToStat(Tree.ExtendedTypes)));
            }
            case OpCode.GetAllChildrenNumber:
            {
                var q = PathRequest.Read(ref r);
                ReadableNode(request, q.Path, Perms.Read);
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, new GetAllChildrenNumberResponse(Tree.CountDescendants(q.Path)));
            }
            case OpCode.GetEphemerals:
            {
                var prefix = PathRequest.Read(ref r).Path;
                bool all = string.IsNullOrWhiteSpace(prefix) || prefix.Trim() == "/";
                var list = Tree.EphemeralsOf(request.Session.Id).Where(p => all || p.StartsWith(prefix, StringComparison.Ordinal)).ToList();
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, new GetEphemeralsResponse(list));
            }
            case OpCode.CheckWatches or OpCode.RemoveWatches:
            {
                var q = WatchesRequest.Read(ref r);
                PrepStage.ValidatePath(q.Path);
                bool found = request.Type == OpCode.CheckWatches
                    ? Tree.Watches.HasWatch(q.Path, conn, q.Type)
                    : Tree.Watches.RemoveWatch(q.Path, conn, q.Type);
                if (!found) throw new KeeperException(ErrorCode.NoWatcher, q.Path);
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, null);
            }
            case OpCode.AddWatch:
            {
                var q = AddWatchRequest.Read(ref r);
                PrepStage.ValidatePath(q.Path);
                if (q.Mode is not (AddWatchMode.Persistent or AddWatchMode.PersistentRecursive)) throw new KeeperException(ErrorCode.BadArguments, q.Path);
                Tree.Watches.AddPersistentWatch(q.Path, conn, q.Mode == AddWatchMode.PersistentRecursive);
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, new ErrorResponse(ErrorCode.Ok));
            }
            case OpCode.SetWatches or OpCode.SetWatches2:
                SetWatches(conn, SetWatchesRequest.Read(ref r, request.Type == OpCode.SetWatches2));
                return WriteReply(Xids.SetWatches, zxid, ErrorCode.Ok, null);
            case OpCode.WhoAmI:
                return WriteReply(request.Xid, zxid, ErrorCode.Ok, new WhoAmIResponse(conn.AuthIds
                    .Select(id => new ClientInfo(id.Scheme, id.Scheme == "digest" ? id.Ident.Split(':')[0] : id.Ident)).ToList()));
            case OpCode.MultiRead:
                return MultiRead(request, ref r);
            default:
                // ZooKeeper answers an unknown request type with Unimplemented (zxid -1) and closes the connection.
                _log.LogWarning("Unknown request type {Type} from session 0x{Session:x}; closing the connection", (int)request.Type, request.Session.Id);
                request.CloseAfter = true;
                return WriteReply(request.Xid, -1, ErrorCode.Unimplemented, null);
        }
    }

    /// <summary>Reads do not validate paths (ZooKeeper doesn't): a malformed path is simply not there.</summary>
    private Znode ReadableNode(Request request, string path, Perms perm)
    {
        var node = Tree.Get(path) ?? throw new KeeperException(ErrorCode.NoNode, path);
        if (!_options.SkipAcl && !Acls.Allows(node.Acl, PrepStage.AuthOf(request), perm)) throw new KeeperException(ErrorCode.NoAuth, path);
        return node;
    }

    /// <summary>
    /// Re-registers a reconnecting client's watches. A watch whose node changed since the client's last zxid fires at
    /// once (the client missed that event while away), as ZooKeeper does.
    /// </summary>
    private void SetWatches(IWatcher conn, SetWatchesRequest q)
    {
        long since = q.RelativeZxid;
        foreach (var path in q.DataWatches)
        {
            var node = Tree.Get(path);
            if (node is null) conn.Process(new WatcherEvent(EventType.NodeDeleted, KeeperState.SyncConnected, path));
            else if (node.Mzxid > since) conn.Process(new WatcherEvent(EventType.NodeDataChanged, KeeperState.SyncConnected, path));
            else Tree.Watches.AddDataWatch(path, conn);
        }
        foreach (var path in q.ExistWatches)
        {
            if (Tree.Get(path) is not null) conn.Process(new WatcherEvent(EventType.NodeCreated, KeeperState.SyncConnected, path));
            else Tree.Watches.AddDataWatch(path, conn);
        }
        foreach (var path in q.ChildWatches)
        {
            var node = Tree.Get(path);
            if (node is null) conn.Process(new WatcherEvent(EventType.NodeDeleted, KeeperState.SyncConnected, path));
            else if (node.Pzxid > since) conn.Process(new WatcherEvent(EventType.NodeChildrenChanged, KeeperState.SyncConnected, path));
            else Tree.Watches.AddChildWatch(path, conn);
        }
        foreach (var path in q.PersistentWatches) Tree.Watches.AddPersistentWatch(path, conn, recursive: false);
        foreach (var path in q.PersistentRecursiveWatches) Tree.Watches.AddPersistentWatch(path, conn, recursive: true);
    }

    /// <summary>Connections may hold this many digest identities; more is an abuse, not a use.</summary>
    private const int MaxAuthIds = 32;

    /// <summary>
    /// addAuth takes effect the moment it arrives, as in ZooKeeper: the writes a client pipelines behind it are
    /// checked with the new identity. Its answer (xid -4) goes out at once, or right after the handshake's.
    /// </summary>
    private void AddAuthNow(Request request)
    {
        (string? Scheme, byte[]? Data)? auth;
        try
        {
            // Read field by field rather than as an AuthPacket, which cannot tell null data from empty.
            var r = new JuteReader(request.Body);
            r.ReadInt(); // type, unused (as in ZooKeeper)
            auth = (r.ReadString(), r.ReadBuffer());
        }
        catch (JuteException e)
        {
            // ZooKeeper reads the auth packet on its network thread and drops the connection, unanswered, when it
            // cannot: no AuthFailed for what was never a request.
            _log.LogWarning("Closing the connection of session 0x{Session:x}: malformed auth packet (opcode {Type}): {Reason}",
                request.Session.Id, (int)request.Type, e.Message);
            auth = null;
        }
        request.State = RequestState.Answered;
        if (auth is null) request.CloseAfter = true;
        else
        {
            bool ok = AddAuth(request, auth.Value.Scheme, auth.Value.Data);
            // The answer carries the request's own xid (clients send -4), as ZooKeeper's does.
            request.Response = Reply(request.Xid, 0, ok ? ErrorCode.Ok : ErrorCode.AuthFailed, null);
            request.CloseAfter = !ok;
        }
        // A session still being created answers its handshake first (ZooKeeper reads nothing more until then).
        if (request.Session.Creating) Enqueue(request);
        else Send(request);
    }

    private bool AddAuth(Request request, string? scheme, byte[]? data)
    {
        var conn = request.Connection!;
        if (scheme == "ip")
        {
            // ZooKeeper's ip provider ignores the data and vouches for the address the client connects from, which
            // the connection already holds.
            var ip = new Id("ip", conn.RemoteIp);
            if (!conn.AuthIds.Contains(ip)) conn.AuthIds.Add(ip);
            return true;
        }
        if (scheme != "digest")
        {
            _log.LogWarning("No authentication provider for scheme {Scheme} (session 0x{Session:x}); closing the connection", LogText.Escape(scheme), request.Session.Id);
            return false;
        }
        if (data is null)
        {
            _log.LogWarning("Digest authentication without data (session 0x{Session:x}); closing the connection", request.Session.Id);
            return false;
        }
        string digest = Acls.Digest(Encoding.UTF8.GetString(data));
        var id = new Id("digest", digest);
        if (conn.AuthIds.Contains(id)) return true;
        if (conn.AuthIds.Count >= MaxAuthIds)
        {
            _log.LogWarning("Session 0x{Session:x} added more than {Max} identities; closing the connection", request.Session.Id, MaxAuthIds);
            return false;
        }
        conn.AuthIds.Add(id);
        if (_options.SuperDigest is { } super && super == digest && !conn.AuthIds.Contains(new Id("super", "")))
            conn.AuthIds.Add(new Id("super", ""));
        return true;
    }

    /// <summary>multiRead: getData and getChildren ops, each answered on its own (no all-or-nothing).</summary>
    private ReadOnlySpan<byte> MultiRead(Request request, scoped ref JuteReader r)
    {
        var results = new List<(OpCode Type, ErrorCode Err, IJuteRecord? Body)>();
        var conn = request.Connection!;
        while (true)
        {
            var header = MultiHeader.Read(ref r);
            if (header.Done) break;
            var q = PathWatchRequest.Read(ref r);
            try
            {
                if (header.Type is not (OpCode.GetData or OpCode.GetChildren)) throw new KeeperException(ErrorCode.Unimplemented);
                var node = ReadableNode(request, q.Path, Perms.Read);
                if (header.Type == OpCode.GetData)
                {
                    if (q.Watch) Tree.Watches.AddDataWatch(q.Path, conn);
                    results.Add((header.Type, ErrorCode.Ok, new GetDataResponse(node.Data, node.ToStat(Tree.ExtendedTypes))));
                }
                else
                {
                    if (q.Watch) Tree.Watches.AddChildWatch(q.Path, conn);
                    results.Add((header.Type, ErrorCode.Ok, new GetChildrenResponse(node.Children.ToList())));
                }
            }
            catch (KeeperException e)
            {
                results.Add((OpCode.Error, e.Code, new ErrorResponse(e.Code)));
            }
        }
        _writer.Clear();
        _writer.BeginFrame();
        new ReplyHeader(request.Xid, Tree.LastZxid, ErrorCode.Ok).Write(_writer);
        foreach (var (type, err, body) in results)
        {
            new MultiHeader(type, false, err).Write(_writer);
            body?.Write(_writer);
        }
        MultiHeader.End.Write(_writer);
        _writer.EndFrame();
        return _writer.WrittenSpan;
    }
}
