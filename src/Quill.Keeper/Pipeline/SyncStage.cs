using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Pipeline;

/// <summary>
/// Makes accepted txns durable: one thread takes everything that queued up while the last fsync ran, appends it to
/// the transaction log, fsyncs once (group commit) and hands the whole batch back to the request processor in order.
/// Rejected writes and syncs travel through too, without a log entry, so that their answers keep their place.
/// The middle stage of <see cref="PrepStage"/> -> here -> <see cref="FinalStage"/>; a quorum's proposal and commit
/// stages go on either side of it (see <see cref="IRequestStage"/>).
/// </summary>
public sealed class SyncStage(TxnLog log, ILogger logger) : SyncStage<Request>(log, logger), IRequestStage;

/// <summary>
/// The group-commit loop of <see cref="SyncStage"/> for anything with a txn to log: a follower logs the leader's
/// proposals through the same loop before it acknowledges them.
/// </summary>
public class SyncStage<T> : IDisposable where T : class, ILoggedTxn
{
    private readonly TxnLog _log;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly JuteWriter _body = new(1024);
    private List<T> _incoming = [];
    private bool _stopping, _rollRequested;
    private Thread? _thread;
    private Action<List<T>>? _onCommitted;

    internal SyncStage(TxnLog log, ILogger logger)
    {
        _log = log;
        _logger = logger;
    }

    public void Start(Action<List<T>> onCommitted)
    {
        _onCommitted = onCommitted;
        _thread = new Thread(Run) { IsBackground = true, Name = "keeper-sync" };
        _thread.Start();
    }

    public void Submit(T request)
    {
        lock (_lock)
        {
            _incoming.Add(request);
            if (_incoming.Count == 1) Monitor.Pulse(_lock);
        }
    }

    /// <summary>The next batch starts a new log file (after a snapshot, so old files can be purged).</summary>
    public void RequestRoll()
    {
        lock (_lock) _rollRequested = true;
    }

    private void Run()
    {
        while (true)
        {
            List<T> batch;
            bool roll;
            lock (_lock)
            {
                while (_incoming.Count == 0 && !_stopping) Monitor.Wait(_lock);
                if (_incoming.Count == 0) return;
                batch = _incoming;
                _incoming = [];
                roll = _rollRequested;
                _rollRequested = false;
            }
            try
            {
                if (roll) _log.RollLog();
                bool any = false;
                foreach (var r in batch)
                {
                    if (r.Txn is null) continue;
                    if (r.EncodedTxn is { } encoded)
                        _log.Append(r.Zxid, r.SessionId, r.Cxid, r.Time, (int)r.Txn.Type, encoded.Span);
                    else
                    {
                        _body.Clear();
                        r.Txn.Write(_body);
                        _log.Append(r.Zxid, r.SessionId, r.Cxid, r.Time, (int)r.Txn.Type, _body.WrittenSpan);
                    }
                    any = true;
                }
                if (any) _log.Commit();
            }
            catch (Exception e)
            {
                // A log that cannot be written must not acknowledge anything: stop serving writes, loudly.
                _logger.LogCritical(e, "Transaction log write failed; Keeper stops accepting writes");
                Environment.FailFast("Keeper transaction log write failed: " + e.Message, e);
            }
            _onCommitted!(batch);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.Pulse(_lock);
        }
        _thread?.Join();
    }
}
