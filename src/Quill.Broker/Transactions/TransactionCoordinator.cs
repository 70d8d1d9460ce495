using Microsoft.Extensions.Logging;
using Quill.Broker.Groups;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Transactions;

/// <summary>Settings of the transaction coordinator (server.properties keys in the comments).</summary>
public sealed record TransactionCoordinatorOptions
{
    /// <summary>transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may ask for.</summary>
    public int MaxTimeoutMs { get; init; } = 900_000;
    /// <summary>transaction.abort.timed.out.transaction.cleanup.interval.ms: how often timed-out transactions are aborted.</summary>
    public int AbortTimedOutIntervalMs { get; init; } = 10_000;
    /// <summary>transactional.id.expiration.ms: a transactional id unused this long (no transaction open) is forgotten.</summary>
    public long TransactionalIdExpirationMs { get; init; } = 7L * 24 * 3600 * 1000;
}

/// <summary>
/// The transaction coordinator (Kafka's TransactionCoordinator and TransactionStateManager, for one broker that leads
/// every partition): maps transactional ids to producer ids and epochs (InitProducerId), records which partitions
/// and groups a transaction touches (AddPartitionsToTxn, AddOffsetsToTxn), and ends it (EndTxn) by writing a COMMIT
/// or ABORT marker into each of them and telling the group coordinator to keep or drop the transaction's offsets.
/// Its state lives in the compacted <c>__transaction_state</c> topic: every change is written there before it is
/// answered, and on start the coordinator replays it, finishing transactions a crash left half-ended. Transactions
/// that outlive their timeout are aborted, and their producer fenced by an epoch bump; transactional ids unused for
/// transactional.id.expiration.ms are forgotten (a tombstone). Operations run one at a time.
/// </summary>
public sealed class TransactionCoordinator : IDisposable
{
    private readonly IOffsetsLog _stateLog;
    private readonly ReplicaManager _replicas;
    private readonly GroupCoordinator _groups;
    private readonly ProducerIdManager _producerIds;
    private readonly TransactionCoordinatorOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Dictionary<string, TransactionMetadata> _transactions = new(StringComparer.Ordinal);
    private ITimer? _timer;
    private volatile bool _active;

    public TransactionCoordinator(IOffsetsLog stateLog, ReplicaManager replicas, GroupCoordinator groups, ProducerIdManager producerIds,
        TransactionCoordinatorOptions options, TimeProvider time, ILogger log)
    {
        _stateLog = stateLog;
        _replicas = replicas;
        _groups = groups;
        _producerIds = producerIds;
        _options = options;
        _time = time;
        _log = log;
    }

    public bool IsActive => _active;

    /// <summary>
    /// Transactional ids known (for metrics). Read without the lock: a count that is one change stale is fine there,
    /// and the lock is held across log writes.
    /// </summary>
    public int TransactionalIdCount => _transactions.Count;
    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Replays <c>__transaction_state</c>, finishes transactions left in PrepareCommit/PrepareAbort, starts the timeout timer.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            for (int partition = 0; partition < _stateLog.PartitionCount; partition++)
            {
                foreach (var batch in _stateLog.ReadAll(partition))
                {
                    if (batch.IsControl) continue;
                    foreach (var record in batch.ReadRecords())
                    {
                        if (record.Key is not { } key) continue;
                        try
                        {
                            string id = TransactionLogRecords.ReadKey(key);
                            if (record.Value is { } value) _transactions[id] = TransactionLogRecords.ReadValue(id, value);
                            else _transactions.Remove(id);
                        }
                        catch (KafkaProtocolException e)
                        {
                            _log.LogWarning("Skipping unreadable record at offset {Offset} of {Topic}-{Partition}: {Message}",
                                record.Offset, TransactionStateTopic.Name, partition, e.Message);
                        }
                    }
                }
            }
            foreach (var txn in _transactions.Values.Where(t => t.IsCompleting).ToList())
            {
                _log.LogInformation("Finishing transaction {Txn} that was ending when the broker stopped", LogSafe.Text(txn));
                CompleteLocked(txn, txn.State == TransactionState.PrepareCommit);
            }
            _active = true;
            _log.LogInformation("Transaction coordinator loaded {Count} transactional ids from {Topic}", _transactions.Count, TransactionStateTopic.Name);
        }
        finally
        {
            _lock.Release();
        }
        var interval = TimeSpan.FromMilliseconds(_options.AbortTimedOutIntervalMs);
        _timer = _time.CreateTimer(_ => _ = AbortTimedOutAsync(), null, interval, interval);
    }

    /// <summary>
    /// InitProducerId with a transactional id: a producer id and a new epoch for it, fencing any earlier producer with
    /// the same id. A transaction still open is aborted first (with a bumped epoch, so the old producer cannot add to it).
    /// With <paramref name="expectedProducerId"/>/<paramref name="expectedEpoch"/> (v3+, KIP-360) a producer may bump
    /// its own epoch after an error, as long as it is still the current one.
    /// </summary>
    public async Task<(KafkaError Error, long ProducerId, short Epoch)> InitProducerIdAsync(string transactionalId, int timeoutMs,
        long expectedProducerId, short expectedEpoch, CancellationToken ct)
    {
        if (transactionalId.Length == 0) return (KafkaError.InvalidRequest, -1, -1);
        if (timeoutMs <= 0 || timeoutMs > _options.MaxTimeoutMs) return (KafkaError.InvalidTransactionTimeout, -1, -1);
        if (!_active) return (KafkaError.CoordinatorLoadInProgress, -1, -1);
        await _lock.WaitAsync(ct);
        try
        {
            long now = NowMs;
            if (!_transactions.TryGetValue(transactionalId, out var txn))
            {
                txn = new TransactionMetadata(transactionalId) { ProducerId = await _producerIds.NextAsync(ct), ProducerEpoch = 0 };
            }
            else
            {
                if (expectedProducerId >= 0 && (expectedProducerId != txn.ProducerId
                                                || (expectedEpoch != txn.ProducerEpoch && expectedEpoch != txn.FencedEpoch)))
                    return (KafkaError.ProducerFenced, -1, -1);
                if (txn.IsCompleting) return (KafkaError.ConcurrentTransactions, -1, -1);
                if (txn.State == TransactionState.Ongoing)
                {
                    // The old producer's transaction: fence it with the next epoch and abort it.
                    _log.LogInformation("Aborting the open transaction of {Txn}: a new producer with the same transactional id started", LogSafe.Text(txn));
                    FenceEpoch(txn);
                    if (!PersistAndCompleteLocked(txn, commit: false, now)) return (KafkaError.NotCoordinator, -1, -1);
                }
                await BumpEpochAsync(txn, ct);
            }
            txn.TimeoutMs = timeoutMs;
            txn.FencedEpoch = -1;
            txn.State = TransactionState.Empty;
            txn.Partitions.Clear();
            txn.StartTimestampMs = -1;
            txn.LastUpdateTimestampMs = now;
            if (!Persist(txn)) return (KafkaError.NotCoordinator, -1, -1);
            _transactions[transactionalId] = txn;
            return (KafkaError.None, txn.ProducerId, txn.ProducerEpoch);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// AddPartitionsToTxn (and AddOffsetsToTxn, with the group's <c>__consumer_offsets</c> partition): adds partitions to
    /// the producer's transaction, starting it if none is open. Returns one error for the whole request.
    /// </summary>
    public async Task<KafkaError> AddPartitionsAsync(string transactionalId, long producerId, short epoch,
        IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct)
    {
        if (!_active) return KafkaError.CoordinatorLoadInProgress;
        await _lock.WaitAsync(ct);
        try
        {
            if (Check(transactionalId, producerId, epoch, out var txn) is { } error) return error;
            if (txn.IsCompleting) return KafkaError.ConcurrentTransactions;
            long now = NowMs;
            if (txn.State != TransactionState.Ongoing)
            {
                txn.State = TransactionState.Ongoing;
                txn.Partitions.Clear();
                txn.StartTimestampMs = now;
            }
            int before = txn.Partitions.Count;
            foreach (var p in partitions) txn.Partitions.Add(p);
            if (txn.Partitions.Count == before && before > 0) return KafkaError.None;
            txn.LastUpdateTimestampMs = now;
            return Persist(txn) ? KafkaError.None : KafkaError.NotCoordinator;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>EndTxn: commits or aborts the producer's transaction (a retry of a finished end succeeds again).</summary>
    public async Task<KafkaError> EndTransactionAsync(string transactionalId, long producerId, short epoch, bool commit, CancellationToken ct)
    {
        if (!_active) return KafkaError.CoordinatorLoadInProgress;
        await _lock.WaitAsync(ct);
        try
        {
            if (Check(transactionalId, producerId, epoch, out var txn) is { } error) return error;
            switch (txn.State)
            {
                case TransactionState.Ongoing:
                    return PersistAndCompleteLocked(txn, commit, NowMs) ? KafkaError.None : KafkaError.NotCoordinator;
                case TransactionState.CompleteCommit when commit:
                case TransactionState.CompleteAbort when !commit:
                    return KafkaError.None;
                case TransactionState.PrepareCommit or TransactionState.PrepareAbort:
                    return KafkaError.ConcurrentTransactions;
                default:
                    return KafkaError.InvalidTxnState;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The producer may act for the transactional id: the id is known, the producer id matches and the epoch is current.</summary>
    private KafkaError? Check(string transactionalId, long producerId, short epoch, out TransactionMetadata txn)
    {
        if (!_transactions.TryGetValue(transactionalId, out txn!)) return KafkaError.InvalidProducerIdMapping;
        if (txn.ProducerId != producerId) return KafkaError.InvalidProducerIdMapping;
        if (txn.ProducerEpoch != epoch) return KafkaError.ProducerFenced;
        return null;
    }

    /// <summary>Ends an open transaction: PrepareCommit/PrepareAbort written first, then the markers, then Complete*.</summary>
    private bool PersistAndCompleteLocked(TransactionMetadata txn, bool commit, long now)
    {
        var before = txn.State;
        txn.State = commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort;
        txn.LastUpdateTimestampMs = now;
        if (!Persist(txn))
        {
            // Not recorded, so not begun: the transaction stays open and the client may retry.
            txn.State = before;
            return false;
        }
        CompleteLocked(txn, commit);
        return true;
    }

    /// <summary>Writes the markers into every partition of the transaction, settles its offsets, and records the outcome.</summary>
    private void CompleteLocked(TransactionMetadata txn, bool commit)
    {
        foreach (var (topic, index) in txn.Partitions.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition))
        {
            if (_replicas.Get(topic, index) is not { } partition)
            {
                _log.LogWarning("Transaction {Txn}: {Topic}-{Partition} is gone; no marker written there", LogSafe.Text(txn.TransactionalId), topic, index);
                continue;
            }
            try
            {
                partition.Log.AppendControlMarker(txn.ProducerId, txn.ProducerEpoch, commit, coordinatorEpoch: 0, partition.LeaderEpoch);
                partition.NotifyAppended();
            }
            catch (Exception e) when (e is LogException or IOException or ObjectDisposedException)
            {
                _log.LogError(e, "Transaction {Txn}: writing the {Marker} marker into {Topic}-{Partition} failed", LogSafe.Text(txn.TransactionalId),
                    commit ? "COMMIT" : "ABORT", topic, index);
            }
            if (topic == OffsetsTopic.Name) _groups.CompleteTransaction(txn.ProducerId, index, commit);
        }
        txn.State = commit ? TransactionState.CompleteCommit : TransactionState.CompleteAbort;
        txn.Partitions.Clear();
        txn.LastUpdateTimestampMs = NowMs;
        if (!Persist(txn)) _log.LogWarning("Transaction {Txn}: its completion could not be recorded; it is finished again at the next start", LogSafe.Text(txn));
    }

    /// <summary>The next epoch for the transactional id; a new producer id once the epoch is used up.</summary>
    private async Task BumpEpochAsync(TransactionMetadata txn, CancellationToken ct)
    {
        if (txn.ProducerEpoch >= short.MaxValue - 1)
        {
            txn.ProducerId = await _producerIds.NextAsync(ct);
            txn.ProducerEpoch = 0;
        }
        else
        {
            txn.ProducerEpoch++;
        }
    }

    /// <summary>
    /// The bump that fences a producer before its transaction is aborted: the same producer id (the markers must name
    /// it), the next epoch, so its later writes are refused as from an old epoch.
    /// </summary>
    private static void FenceEpoch(TransactionMetadata txn)
    {
        if (txn.ProducerEpoch >= short.MaxValue) return;
        txn.FencedEpoch = txn.ProducerEpoch;
        txn.ProducerEpoch++;
    }

    private bool Persist(TransactionMetadata txn) => WriteState(txn.TransactionalId, TransactionLogRecords.ValueOf(txn));

    /// <summary>A tombstone: the transactional id is forgotten.</summary>
    private bool PersistTombstone(string transactionalId) => WriteState(transactionalId, null);

    private bool WriteState(string transactionalId, byte[]? value)
    {
        var records = new RecordBatchBuilder().Add(NowMs, TransactionLogRecords.KeyOf(transactionalId), value);
        try
        {
            _stateLog.Append(TransactionStateTopic.PartitionFor(transactionalId, _stateLog.PartitionCount), records.Build());
            return true;
        }
        catch (Exception e) when (e is LogException or IOException or ObjectDisposedException)
        {
            _log.LogError(e, "Could not write the state of transactional id {Id} to {Topic}", LogSafe.Text(transactionalId), TransactionStateTopic.Name);
            return false;
        }
    }

    /// <summary>
    /// Aborts transactions open longer than their timeout and fences their producers (the next epoch), and forgets
    /// transactional ids with no transaction open that have not been used for transactional.id.expiration.ms.
    /// </summary>
    private async Task AbortTimedOutAsync()
    {
        if (!_active) return;
        try
        {
            await _lock.WaitAsync();
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        try
        {
            long now = NowMs;
            foreach (var txn in _transactions.Values)
            {
                if (txn.State != TransactionState.Ongoing || txn.StartTimestampMs + txn.TimeoutMs > now) continue;
                _log.LogInformation("Aborting transaction {Txn}: open for more than its timeout of {Timeout} ms", LogSafe.Text(txn), txn.TimeoutMs);
                FenceEpoch(txn);
                PersistAndCompleteLocked(txn, commit: false, now);
            }
            foreach (var txn in _transactions.Values.Where(t => (t.State is TransactionState.Empty or TransactionState.CompleteCommit or TransactionState.CompleteAbort)
                         && t.LastUpdateTimestampMs + _options.TransactionalIdExpirationMs <= now).ToList())
            {
                if (!PersistTombstone(txn.TransactionalId)) continue;
                _transactions.Remove(txn.TransactionalId);
                _log.LogInformation("Transactional id {Id} expired: unused for {Ms} ms", LogSafe.Text(txn.TransactionalId), _options.TransactionalIdExpirationMs);
            }
        }
        catch (Exception e)
        {
            _log.LogError(e, "Aborting timed-out transactions failed");
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _active = false;
        _timer?.Dispose();
    }
}
