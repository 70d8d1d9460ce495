using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Quill.Keeper.Metrics;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

/// <summary>
/// The owner of Keeper's state. One logical thread takes work from one queue and is the only code that touches the
/// data tree, the sessions and the pending changes, so none of them lock. A write goes: accept (validate against
/// <see cref="PendingChanges"/>, becoming a txn with a zxid) -> <see cref="SyncStage"/> (logged and fsynced with its
/// batch) -> back here to be applied, fire its watches and be answered. Reads are answered at once unless the same
/// session has earlier requests still in flight, in which case they wait their turn in the session's queue.
/// </summary>
public sealed partial class RequestProcessor
{
    private readonly Channel<Work> _inbox = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly KeeperOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly SyncStage _sync;
    private readonly PendingChanges _pending;
    private readonly JuteWriter _writer = new(4096);
    private readonly Session _systemSession = new(0, int.MaxValue, []);
    private long _lastAcceptedZxid;
    private long _txnsSinceSnapshot;
    private long _lastContainerCheck;

    public RequestProcessor(KeeperOptions options, DataTree tree, SessionTracker sessions, SyncStage sync,
        KeeperMetrics metrics, TimeProvider time, ILogger log)
    {
        _options = options;
        Tree = tree;
        Sessions = sessions;
        _sync = sync;
        Metrics = metrics;
        _time = time;
        _log = log;
        _pending = new PendingChanges(tree);
        _lastAcceptedZxid = tree.LastZxid;
    }

    public DataTree Tree { get; }
    public SessionTracker Sessions { get; }
    public KeeperMetrics Metrics { get; }
    /// <summary>Requests accepted but not yet answered, over all sessions.</summary>
    public int Outstanding { get; private set; }
    /// <summary>Called on the owner thread when enough txns have been applied for a snapshot.</summary>
    public Action<byte[], long>? SnapshotReady { get; set; }

    public void Post(Work work) => _inbox.Writer.TryWrite(work);

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
        var request = new Request(conn, session, work.Xid, work.Type, work.Body);
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
        else if (IsWrite(work.Type)) Accept(request);
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

    /// <summary>Validates a write and sends it to the log, as a txn or (when rejected) as a marker that keeps its turn.</summary>
    private void Accept(Request request)
    {
        request.Time = _time.GetUtcNow().ToUnixTimeMilliseconds();
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
            _log.LogWarning("Malformed {Type} request from session 0x{Session:x}: {Reason}", request.Type, request.Session.Id, e.Message);
            request.Error = ErrorCode.MarshallingError;
        }
        request.State = RequestState.InFlight;
        Enqueue(request);
        _sync.Submit(request);
    }

    private void HandleCommitted(List<Request> batch)
    {
        foreach (var request in batch)
        {
            try
            {
                // Each branch leaves the answer in _writer.
                if (request.Txn is not null) ApplyCommitted(request);
                else if (request.FailedMulti is { } failed) WriteMultiReply(request, failed, null);
                else if (request.Error != ErrorCode.Ok) WriteReply(request.Xid, Tree.LastZxid, request.Error, null);
                else WriteReply(request.Xid, Tree.LastZxid, ErrorCode.Ok, request.Type == OpCode.Sync ? SyncReply(request) : null);
            }
            catch (Exception e)
            {
                // A committed txn that cannot be applied is a bug; answer the client and keep serving everyone else.
                _log.LogCritical(e, "Applying {Type} (zxid 0x{Zxid:x}) from session 0x{Session:x} failed", request.Type, request.Zxid, request.Session.Id);
                WriteReply(request.Xid, Tree.LastZxid, ErrorCode.SystemError, null);
            }
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
        if (_txnsSinceSnapshot >= _options.SnapCount && SnapshotReady is not null)
        {
            _txnsSinceSnapshot = 0;
            SnapshotReady(SerializeState(), Tree.LastZxid);
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
        Metrics.RecordLatency(Environment.TickCount64 - request.ReceivedTicks);
        if (request.CloseAfter) conn.Close();
    }

    /// <summary>Builds an answer in <see cref="_writer"/>, valid until the next one is built.</summary>
    private ReadOnlySpan<byte> WriteReply(int xid, long zxid, ErrorCode err, IJuteRecord? body)
    {
        _writer.Clear();
        _writer.BeginFrame();
        new ReplyHeader(xid, zxid, err).Write(_writer);
        body?.Write(_writer);
        _writer.EndFrame();
        return _writer.WrittenSpan;
    }

    /// <summary>As above for a body that is a struct (a Stat, data and stat): no record object per answer.</summary>
    private ReadOnlySpan<byte> WriteReply<T>(int xid, long zxid, ErrorCode err, T body) where T : struct, IJuteRecord
    {
        _writer.Clear();
        _writer.BeginFrame();
        new ReplyHeader(xid, zxid, err).Write(_writer);
        body.Write(_writer);
        _writer.EndFrame();
        return _writer.WrittenSpan;
    }

    /// <summary>getData's answer, written as <see cref="GetDataResponse"/> writes it.</summary>
    private readonly struct DataAndStat(byte[]? data, Stat stat) : IJuteRecord
    {
        public void Write(JuteWriter w) { w.WriteBuffer(data); stat.Write(w); }
    }

    /// <summary>An answer that waits for its turn: a copy of its own.</summary>
    private byte[] Reply(int xid, long zxid, ErrorCode err, IJuteRecord? body) => WriteReply(xid, zxid, err, body).ToArray();

    internal byte[] SerializeState()
    {
        var w = new JuteWriter(1 << 16);
        var sessions = Sessions.All.Where(s => !s.Creating).ToList();
        w.WriteInt(sessions.Count);
        foreach (var s in sessions) { w.WriteLong(s.Id); w.WriteInt(s.TimeoutMs); }
        Tree.Serialize(w);
        return w.ToArray();
    }
}
