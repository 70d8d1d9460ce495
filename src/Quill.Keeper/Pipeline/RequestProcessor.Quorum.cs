using Quill.Keeper.Protocol;
using Quill.Keeper.Quorum;
using Quill.Keeper.Sessions;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

/// <summary>Which part this server plays: the processor's write path and session duties depend on it.</summary>
public enum ServerRole { Standalone, Leader, Follower, ReadOnly }

// The ensemble's part of the processor. A leader takes writes forwarded by learners into its own pipeline; a
// follower forwards its clients' writes to the leader and applies what the leader commits, answering its own clients
// when their writes come back. Reads are answered from the local tree in both (sync first for the latest state).
public sealed partial class RequestProcessor
{
    /// <summary>Follower: sends a packet to the leader (set by the follower before any work arrives).</summary>
    public Action<PacketType, long, byte[]>? SendToLeader { get; init; }

    /// <summary>Follower: this server's writes waiting for the leader, per session, in the order they were sent.</summary>
    private readonly Dictionary<long, Queue<Request>> _forwarded = [];
    /// <summary>Follower: commits and answers from the leader, in stream order, until their txns are logged here.</summary>
    private readonly Queue<Work> _fromLeader = new();
    private long _loggedZxid;

    private void Forward(Request request)
    {
        request.State = RequestState.InFlight;
        if (!_forwarded.TryGetValue(request.Session.Id, out var queue)) _forwarded[request.Session.Id] = queue = new Queue<Request>();
        queue.Enqueue(request);
        byte[] body = request.Type == OpCode.CreateSession ? TimeoutBody(request.Session.TimeoutMs) : request.Body;
        if (request.Type == OpCode.Multi) request.MultiOpTypes = MultiOpTypesOf(request.Body);
        var auth = request.Connection?.AuthIds ?? [];
        SendToLeader!(PacketType.Request, 0, new ForwardedRequest(request.Session.Id, request.Xid, request.Type, body, auth.ToList()).Encode());
    }

    private static byte[] TimeoutBody(int timeoutMs)
    {
        var w = new JuteWriter(4);
        w.WriteInt(timeoutMs);
        return w.ToArray();
    }

    /// <summary>The op types of a multi (they decide the shape of each result), read from the request as sent.</summary>
    private static List<OpCode>? MultiOpTypesOf(byte[] body)
    {
        try
        {
            var r = new JuteReader(body);
            var types = new List<OpCode>();
            while (true)
            {
                var header = MultiHeader.Read(ref r);
                if (header.Done) return types;
                PrepStage.SkipMultiOp(header.Type, ref r);
                types.Add(header.Type);
            }
        }
        catch (JuteException) { return null; } // the leader refuses it; the answer needs no types
    }

    // ---- leader ----

    private void HandleForwarded(ForwardedWork work)
    {
        var f = work.Request;
        if (f.Type == OpCode.CreateSession)
        {
            var r = new JuteReader(f.Body);
            int timeout = r.ReadInt();
            var created = Sessions.Get(f.SessionId) ?? Sessions.Add(f.SessionId, timeout);
            created.Creating = true;
            var create = new Request(null, created, 0, OpCode.CreateSession, []) { Forwarder = work.From, ReceivedTimestamp = _time.GetTimestamp() };
            Enqueue(create);
            _prep.SubmitCreateSession(create, timeout);
            return;
        }
        var session = Sessions.Get(f.SessionId);
        var request = new Request(null, session ?? new Session(f.SessionId, 0, []), f.Cxid, f.Type, f.Body)
        {
            Auth = f.Auth,
            Forwarder = work.From,
            ReceivedTimestamp = _time.GetTimestamp(),
        };
        if (session is null || (session.Closing && f.Type != OpCode.CloseSession)) request.Error = ErrorCode.SessionExpired;
        else Sessions.Touch(session);
        Submit(request);
    }

    private void HandleTouches(TouchSessionsWork work)
    {
        foreach (var (id, _) in work.Sessions)
            if (Sessions.Get(id) is { Closing: false } s) Sessions.Touch(s);
    }

    // ---- follower ----

    private void HandleFromLeader(Work work)
    {
        _fromLeader.Enqueue(work);
        ApplyFromLeader();
    }

    private void HandleLogged(long zxid)
    {
        _loggedZxid = Math.Max(_loggedZxid, zxid);
        ApplyFromLeader();
    }

    /// <summary>Applies commits whose txns are logged here, and answers in between, in the leader's order.</summary>
    private void ApplyFromLeader()
    {
        while (_fromLeader.TryPeek(out var head))
        {
            if (head is LeaderCommitWork c && c.Proposal.Zxid > _loggedZxid) return;
            _fromLeader.Dequeue();
            if (head is LeaderCommitWork commit) ApplyCommit(commit.Proposal);
            else if (head is LeaderAnswerWork answer) ApplyAnswer(answer.Answer);
        }
    }

    private void ApplyCommit(Proposal p)
    {
        if (p.Zxid <= Tree.LastZxid) return; // already applied (a diff that overlaps what this server had)
        var txn = p.Txn!;
        var request = TakeForwarded(p.SessionId, p.Cxid, txn is CreateSessionTxn ? OpCode.CreateSession : null);
        if (request is null)
        {
            var session = Sessions.Get(p.SessionId)
                ?? (txn is CreateSessionTxn cs ? Sessions.Add(p.SessionId, cs.Timeout) : new Session(p.SessionId, 0, []));
            request = new Request(null, session, p.Cxid, txn.Type, []) { ReceivedTimestamp = _time.GetTimestamp() };
        }
        request.Txn = txn;
        request.Zxid = p.Zxid;
        request.Time = p.Time;
        if (txn is CloseSessionTxn) request.Session.Closing = true;
        CompleteCommitted(request);
        AfterCommitted();
    }

    private void ApplyAnswer(ForwardedAnswer a)
    {
        var request = TakeForwarded(a.SessionId, a.Cxid, null);
        if (request is null) return; // its connection is gone: nobody to answer
        request.Error = a.Error;
        request.FailedMulti = a.FailedMulti;
        CompleteCommitted(request);
    }

    /// <summary>The session's oldest forwarded write, when the leader's message is about it.</summary>
    private Request? TakeForwarded(long sessionId, int cxid, OpCode? type)
    {
        if (!_forwarded.TryGetValue(sessionId, out var queue) || !queue.TryPeek(out var head)) return null;
        if (head.Xid != cxid || (type is { } t && head.Type != t) || (type is null && head.Type == OpCode.CreateSession)) return null;
        queue.Dequeue();
        if (queue.Count == 0) _forwarded.Remove(sessionId);
        return head;
    }

    private void HandlePing()
    {
        SendToLeader!(PacketType.Ping, Tree.LastZxid, SessionTouches.Encode(Sessions.DrainTouched()));
    }
}
