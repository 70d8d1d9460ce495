using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;

namespace Quill.Keeper.Pipeline;

// Session lifecycle: the connect handshake, reconnects, expiry; and the tick that also runs the container manager.
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
        if (Role == ServerRole.ReadOnly && !ConnectReadOnly(conn, connect, timeout)) return;

        if (connect.SessionId == 0)
        {
            var session = Sessions.Add(Sessions.NextId(), timeout);
            session.Creating = true;
            session.Connection = conn;
            conn.Session = session;
            var request = new Request(conn, session, 0, OpCode.CreateSession, []) { Connect = connect, ReceivedTimestamp = _time.GetTimestamp() };
            Enqueue(request);
            if (Role == ServerRole.Follower) Forward(request);
            else _prep.SubmitCreateSession(request, timeout);
            return;
        }

        var existing = Sessions.Get(connect.SessionId);
        if (existing is null || existing.Closing || !Sessions.PasswordMatches(existing, connect.Password))
        {
            _log.LogInformation("Invalid session 0x{Session:x} for client {Client}, probably expired", connect.SessionId, conn.RemoteAddress);
            Replies.Connect(_writer, connect, 0, 0, new byte[16]);
            conn.Send(_writer.WrittenSpan);
            conn.Close();
            return;
        }
        existing.TimeoutMs = timeout;
        if (existing.Connection is { } old && old != conn) old.Close();
        existing.Connection = conn;
        conn.Session = existing;
        Sessions.Touch(existing);
        Replies.Connect(_writer, connect, timeout, existing.Id, existing.Password, readOnly: Role == ServerRole.ReadOnly);
        conn.Send(_writer.WrittenSpan);
    }

    private void HandleConnectionClosed(IClientChannel conn)
    {
        Tree.Watches.RemoveWatcher(conn);
        if (conn.Session is { } session && session.Connection == conn) session.Connection = null;
    }

    private void HandleTick()
    {
        // Only the leader (or a standalone server) expires sessions and removes containers: followers apply its txns.
        if (Role is ServerRole.Follower or ServerRole.ReadOnly) return;
        foreach (var session in Sessions.Expired())
        {
            _log.LogInformation("Expiring session 0x{Session:x}, timeout of {Timeout}ms exceeded", session.Id, session.TimeoutMs);
            // The connection stays open until the close is applied, as in ZooKeeper: a client that learns of the
            // expiry (by reconnecting) must find its ephemerals already gone.
            session.Closing = true;
            Submit(new Request(null, session, 0, OpCode.CloseSession, []));
        }
        foreach (var delete in _containers.Check(_time.GetUtcNow().ToUnixTimeMilliseconds())) Submit(delete);
    }
}
