using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Metrics;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Storage;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

/// <summary>
/// The owner of Keeper's state. One logical thread takes work from one queue and is the only code that touches the
/// data tree, the sessions and the pending changes, so none of them lock. A write moves through the stages, forward
/// only: <see cref="PrepStage"/> (validate against <see cref="PendingChanges"/>, becoming a txn with a zxid) ->
/// <see cref="SyncStage"/> (logged and fsynced with its batch, on its own thread) -> <see cref="FinalStage"/> (back
/// here: applied, its watches fired, its answer built); a quorum would slot in between (see <see cref="IRequestStage"/>).
/// This class answers in each session's order: reads are answered at once unless the same session has earlier
/// requests still in flight, in which case they wait their turn in the session's queue. It talks to connections only
/// through <see cref="IClientChannel"/>.
/// </summary>
public sealed partial class RequestProcessor
{
    private readonly Channel<Work> _inbox = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly KeeperOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly PrepStage _prep;
    private readonly FinalStage _final;
    private readonly ContainerManager _containers;
    private readonly JuteWriter _writer = new(4096);

    public RequestProcessor(KeeperOptions options, DataTree tree, SessionTracker sessions, IRequestStage sync,
        KeeperMetrics metrics, TimeProvider time, ILogger log, ServerRole role = ServerRole.Standalone)
    {
        Role = role;
        if (role == ServerRole.Follower) sessions.TrackTouches();
        _options = options;
        Tree = tree;
        Sessions = sessions;
        Metrics = metrics;
        _time = time;
        _log = log;
        var pending = new PendingChanges(tree);
        _prep = new PrepStage(options, tree, pending, sync, time, log);
        _final = new FinalStage(tree, sessions, pending, _writer, log);
        _containers = new ContainerManager(tree, options.ContainerCheckIntervalMs);
    }

    public ServerRole Role { get; }
    public DataTree Tree { get; }
    public SessionTracker Sessions { get; }
    public KeeperMetrics Metrics { get; }
    /// <summary>Requests accepted but not yet answered, over all sessions.</summary>
    public int Outstanding { get; private set; }
    /// <summary>
    /// Called on the owner thread every snapCount applied txns with a consistent image of the state (cheap to take:
    /// no encoding); whoever receives it writes the snapshot on another thread.
    /// </summary>
    public Action<StateImage>? SnapshotReady { get; set; }

    /// <summary>Leader: prepares a reconfig (see <see cref="PrepStage.Reconfigure"/>).</summary>
    public Func<ReconfigRequest, long, byte[]>? Reconfigure { get => _prep.Reconfigure; set => _prep.Reconfigure = value; }

    /// <summary>Ensemble: a reconfig was applied here (see <see cref="FinalStage.ConfigCommitted"/>).</summary>
    public Action<byte[], long>? ConfigCommitted { get => _final.ConfigCommitted; set => _final.ConfigCommitted = value; }

    public void Post(Work work) => _inbox.Writer.TryWrite(work);

    /// <summary>A new leader's first zxid is its epoch's (called before the processor runs).</summary>
    public void StartEpoch(long epoch) => _prep.StartEpoch(epoch);

    public Task<string> QueryAsync(Func<string> query)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(new QueryWork(query, done))) done.TrySetException(new ObjectDisposedException("Keeper is stopping"));
        return done.Task;
    }

    public void Complete() => _inbox.Writer.TryComplete();

    public async Task RunAsync(CancellationToken ct)
    {
        var reader = _inbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                int handled = 0;
                while (reader.TryRead(out var work))
                {
                    try { Handle(work); }
                    catch (Exception e) { _log.LogError(e, "Request processor failed on {Work}", work.GetType().Name); }
                    if (++handled % FlushEvery == 0) FlushConnections();
                }
                FlushConnections();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    /// <summary>Connections with answers queued but their writers not yet woken (see <see cref="Send(Request, ReadOnlySpan{byte})"/>).</summary>
    private readonly List<IClientChannel> _toFlush = [];
    /// <summary>Under steady load the inbox is seldom empty: wake writers at least this often (work items).</summary>
    private const int FlushEvery = 32;

    /// <summary>Wakes the writers of connections that got answers since the last call: one send for many answers.</summary>
    private void FlushConnections()
    {
        foreach (var conn in _toFlush) conn.Flush();
        _toFlush.Clear();
    }

    private void Handle(Work work)
    {
        switch (work)
        {
            case RequestWork r: HandleRequest(r); break;
            case CommittedWork c: HandleCommitted(c.Batch); break;
            case ConnectWork c: HandleConnect(c.Connection, c.Request); break;
            case ConnectionClosedWork c: HandleConnectionClosed(c.Connection); break;
            case TickWork: HandleTick(); break;
            case ForwardedWork f: HandleForwarded(f); break;
            case TouchSessionsWork t: HandleTouches(t); break;
            case LeaderCommitWork or LeaderAnswerWork: HandleFromLeader(work); break;
            case LoggedUpToWork l: HandleLogged(l.Zxid); break;
            case PingWork: HandlePing(); break;
            case OwnerWork o: o.Action(); break;
            case QueryWork q:
                try { q.Done.TrySetResult(q.Query()); } catch (Exception e) { q.Done.TrySetException(e); }
                break;
        }
    }

    private void HandleRequest(RequestWork work)
    {
        var conn = work.Connection;
        var session = conn.Session;
        if (session is null || conn.IsClosed)
        {
            conn.RequestDone();
            return;
        }
        conn.PacketsReceived++;
        Metrics.PacketsReceived++;
        var request = new Request(conn, session, work.Xid, work.Type, work.Body) { ReceivedTimestamp = _time.GetTimestamp() };
        if (session.Closing && work.Type != OpCode.CloseSession)
        {
            // Answered in turn, behind the session's earlier requests (clients check that xids come back in order).
            request.State = RequestState.Answered;
            request.Response = Reply(work.Xid, Tree.LastZxid, ErrorCode.SessionExpired, null);
            if (session.Queue.Count == 0) Send(request); else Enqueue(request);
            return;
        }
        Sessions.Touch(session);
        if (work.Type == OpCode.Auth) AddAuthNow(request);
        else if (IsWrite(work.Type))
        {
            if (Role == ServerRole.ReadOnly) RefuseWriteReadOnly(request);
            else Submit(request);
        }
        else
        {
            request.State = RequestState.Deferred;
            if (session.Queue.Count == 0) Answer(request);
            else Enqueue(request);
        }
    }

    private static bool IsWrite(OpCode type) => type is OpCode.Create or OpCode.Create2 or OpCode.CreateContainer
        or OpCode.CreateTtl or OpCode.Delete or OpCode.DeleteContainer or OpCode.SetData or OpCode.SetAcl or OpCode.Check
        or OpCode.Multi or OpCode.CloseSession or OpCode.Sync or OpCode.Reconfig;

    private void Enqueue(Request request)
    {
        request.Session.Queue.Enqueue(request);
        Outstanding++;
    }

    /// <summary>A write enters the stages; it keeps its place in its session's line until its answer goes out.</summary>
    private void Submit(Request request)
    {
        Enqueue(request);
        if (Role == ServerRole.Follower) Forward(request);
        else _prep.Submit(request);
    }

    private void HandleCommitted(List<Request> batch)
    {
        foreach (var request in batch) CompleteCommitted(request);
        AfterCommitted();
    }

    /// <summary>Applies one committed request (or answers a refused one) and sends what its session may now have.</summary>
    private void CompleteCommitted(Request request)
    {
        _final.Apply(request); // leaves the answer in _writer
        request.State = RequestState.Answered;
        var queue = request.Session.Queue;
        if (queue.TryPeek(out var head) && head == request)
        {
            // First in its session's line (the usual case): the answer goes out now, without a copy of its own.
            queue.Dequeue();
            Outstanding--;
            Send(request, _writer.WrittenSpan);
        }
        else request.Response = _writer.ToArray();
        Drain(request.Session);
    }

    private void AfterCommitted()
    {
        if (_final.TxnsApplied >= _options.SnapCount && SnapshotReady is not null)
        {
            _final.TxnsApplied = 0;
            SnapshotReady(CaptureState());
        }
    }

    /// <summary>Answers the session's requests from the front of its queue until one still waits on the log.</summary>
    private void Drain(Session session)
    {
        var queue = session.Queue;
        while (queue.Count > 0)
        {
            var head = queue.Peek();
            if (head.State == RequestState.InFlight) return;
            queue.Dequeue();
            Outstanding--;
            if (head.State == RequestState.Deferred) Answer(head);
            else Send(head);
        }
    }

    private void Send(Request request)
    {
        if (request.Response is null)
        {
            if (request.Connection is { } conn && request.Connect is null)
            {
                conn.RequestDone();
                if (request.CloseAfter) conn.Close(); // dropped unanswered (a malformed auth packet)
            }
            return;
        }
        Send(request, request.Response);
    }

    private void Send(Request request, ReadOnlySpan<byte> response)
    {
        var conn = request.Connection;
        if (conn is null) return;
        if (request.Connect is null) conn.RequestDone(); // the handshake is not a counted request
        if (conn.SendDeferred(response)) _toFlush.Add(conn);
        conn.PacketsSent++;
        Metrics.PacketsSent++;
        Metrics.RecordLatency((long)_time.GetElapsedTime(request.ReceivedTimestamp).TotalMilliseconds);
        if (request.CloseAfter) conn.Close();
    }

    /// <summary>Builds an answer in <see cref="_writer"/>, valid until the next one is built.</summary>
    private ReadOnlySpan<byte> WriteReply(int xid, long zxid, ErrorCode err, IJuteRecord? body) => Replies.Write(_writer, xid, zxid, err, body);

    /// <summary>As above for a body that is a struct (a Stat, data and stat): no record object per answer.</summary>
    private ReadOnlySpan<byte> WriteReply<T>(int xid, long zxid, ErrorCode err, T body) where T : struct, IJuteRecord =>
        Replies.Write(_writer, xid, zxid, err, body);

    /// <summary>getData's answer, written as <see cref="GetDataResponse"/> writes it.</summary>
    private readonly struct DataAndStat(byte[]? data, Stat stat) : IJuteRecord
    {
        public void Write(JuteWriter w) { w.WriteBuffer(data); stat.Write(w); }
    }

    /// <summary>An answer that waits for its turn: a copy of its own.</summary>
    private byte[] Reply(int xid, long zxid, ErrorCode err, IJuteRecord? body) => WriteReply(xid, zxid, err, body).ToArray();

    /// <summary>The sessions and the tree as of the last applied txn: a copy of references, encoded elsewhere.</summary>
    internal StateImage CaptureState()
    {
        var sessions = new List<(long Id, int TimeoutMs)>(Sessions.Count);
        foreach (var s in Sessions.All)
            if (!s.Creating) sessions.Add((s.Id, s.TimeoutMs));
        return new StateImage(sessions, Tree.Capture());
    }
}
