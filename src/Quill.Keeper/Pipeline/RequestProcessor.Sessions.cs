using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

// Session lifecycle: the connect handshake, reconnects, expiry, and the server's own cleanup of containers and TTL nodes.
public sealed partial class RequestProcessor
{
    private void HandleConnect(IClientChannel conn, ConnectRequest connect)
    {
        if (conn.IsClosed) return;
        if (connect.LastZxidSeen > Tree.LastZxid)
        {
            _log.LogInformation("Refusing session request from {Client}: it has seen zxid 0x{Seen:x}, our last zxid is 0x{Last:x}",
                conn.RemoteAddress, connect.LastZxidSeen, Tree.LastZxid);
            conn.Close();
            return;
        }
        int timeout = Math.Clamp(connect.Timeout, _options.EffectiveMinSessionTimeout, _options.EffectiveMaxSessionTimeout);
        conn.AuthIds.Add(new Id("ip", conn.RemoteIp));

        if (connect.SessionId == 0)
        {
            var session = Sessions.Add(Sessions.NextId(), timeout);
            session.Creating = true;
            session.Connection = conn;
            conn.Session = session;
            var request = new Request(conn, session, 0, OpCode.CreateSession, []) { Connect = connect, Time = _time.GetUtcNow().ToUnixTimeMilliseconds() };
            request.Txn = new CreateSessionTxn(timeout);
            request.Zxid = ++_lastAcceptedZxid;
            request.State = RequestState.InFlight;
            Enqueue(request);
            _sync.Submit(request);
            return;
        }

        var existing = Sessions.Get(connect.SessionId);
        if (existing is null || existing.Closing || !Sessions.PasswordMatches(existing, connect.Password))
        {
            _log.LogInformation("Invalid session 0x{Session:x} for client {Client}, probably expired", connect.SessionId, conn.RemoteAddress);
            conn.Send(ConnectReply(connect, 0, 0, new byte[16]));
            conn.Close();
            return;
        }
        existing.TimeoutMs = timeout;
        if (existing.Connection is { } old && old != conn) old.Close();
        existing.Connection = conn;
        conn.Session = existing;
        Sessions.Touch(existing);
        conn.Send(ConnectReply(connect, timeout, existing.Id, existing.Password));
    }

    private void HandleConnectionClosed(IClientChannel conn)
    {
        Tree.Watches.RemoveWatcher(conn);
        if (conn.Session is { } session && session.Connection == conn) session.Connection = null;
    }

    private void HandleTick()
    {
        foreach (var session in Sessions.Expired())
        {
            _log.LogInformation("Expiring session 0x{Session:x}, timeout of {Timeout}ms exceeded", session.Id, session.TimeoutMs);
            // The connection stays open until the close is applied, as in ZooKeeper: a client that learns of the
            // expiry (by reconnecting) must find its ephemerals already gone.
            session.Closing = true;
            Accept(new Request(null, session, 0, OpCode.CloseSession, []));
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (now - _lastContainerCheck >= _options.ContainerCheckIntervalMs)
        {
            _lastContainerCheck = now;
            CheckContainers(now);
        }
    }

    /// <summary>
    /// ZooKeeper's ContainerManager: a container that has had children and has none left, and a TTL node with no
    /// children that was not modified for its TTL, are deleted by the server itself.
    /// </summary>
    private void CheckContainers(long now)
    {
        var doomed = new List<string>();
        foreach (var path in Tree.Containers)
        {
            var node = Tree.Get(path);
            if (node is { ChildCount: 0, Cversion: > 0 }) doomed.Add(path);
        }
        foreach (var path in Tree.Ttls)
        {
            var node = Tree.Get(path);
            if (node is { ChildCount: 0 } && now - node.Mtime > EphemeralType.Ttl(node.EphemeralOwner)) doomed.Add(path);
        }
        foreach (var path in doomed)
        {
            var w = new JuteWriter();
            new DeleteRequest(path, -1).Write(w);
            var request = new Request(null, _systemSession, 0, OpCode.DeleteContainer, w.ToArray());
            Accept(request);
        }
    }
}
