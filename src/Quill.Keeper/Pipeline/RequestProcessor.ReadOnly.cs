using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Pipeline;

// Read-only mode (readonlymode.enabled): an ensemble member that cannot reach a quorum answers reads from the state it
// has, to clients that said they accept that (canBeReadOnly in the handshake), as ZooKeeper's read-only server does.
// Writes and syncs are refused with NOT_READONLY; nothing is logged and no session expires (the next leader judges
// them). A session made here is this server's alone: it ends with the mode.
public sealed partial class RequestProcessor
{
    private readonly HashSet<long> _localSessions = [];

    /// <summary>
    /// The read-only part of the handshake: a client that did not offer to read only is turned away; a new session is
    /// made here at once (no txn). True when the handshake goes on as usual (an existing session reconnecting).
    /// </summary>
    private bool ConnectReadOnly(IClientChannel conn, ConnectRequest connect, int timeout)
    {
        if (!connect.ReadOnly)
        {
            _log.LogInformation("Refusing session request for not-read-only client {Client}", conn.RemoteAddress);
            conn.Close();
            return false;
        }
        if (connect.SessionId != 0) return true;
        var session = Sessions.Add(Sessions.NextId(), timeout);
        _localSessions.Add(session.Id);
        session.Connection = conn;
        conn.Session = session;
        Replies.Connect(_writer, connect, timeout, session.Id, session.Password, readOnly: true);
        conn.Send(_writer.WrittenSpan);
        return false;
    }

    /// <summary>A write in read-only mode: NOT_READONLY in turn; a close ends the connection (and a session made here).</summary>
    private void RefuseWriteReadOnly(Request request)
    {
        request.State = RequestState.Answered;
        if (request.Type == OpCode.CloseSession)
        {
            request.Response = Reply(request.Xid, Tree.LastZxid, ErrorCode.Ok, null);
            request.CloseAfter = true;
            if (_localSessions.Remove(request.Session.Id)) Sessions.Remove(request.Session.Id);
        }
        else request.Response = Reply(request.Xid, Tree.LastZxid, ErrorCode.NotReadOnly, null);
        if (request.Session.Queue.Count == 0) Send(request);
        else Enqueue(request);
    }

    /// <summary>After the mode ends (the processor stopped): the sessions made in it never existed for the ensemble.</summary>
    public void ForgetLocalSessions()
    {
        foreach (long id in _localSessions) Sessions.Remove(id);
        _localSessions.Clear();
    }
}
