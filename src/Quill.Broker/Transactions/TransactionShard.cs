using Microsoft.Extensions.Logging;
using Quill.Broker.Groups;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Transactions;

/// <summary>
/// The transactional ids of one <c>__transaction_state</c> partition (a coordinator shard, as in Kafka's
/// TransactionStateManager per partition): their producer ids and epochs, open transactions and their ends. Everything
/// runs on the shard's <see cref="EventLoop"/>, one operation at a time, so the state needs no lock; what an operation
/// waits for (its state record, the markers, a new producer id block from Keeper, the group coordinator settling
/// offsets) holds up only this shard. Loads (replays its partition, finishing transactions a crash left half-ended)
/// and unloads on its own.
/// </summary>
internal sealed class TransactionShard : IAsyncDisposable
{
    private readonly TransactionCoordinator _coordinator;
    private readonly Dictionary<string, TransactionMetadata> _transactions = new(StringComparer.Ordinal);
    private readonly IOffsetsLog _stateLog;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private ITimer? _timer;
    private bool _loaded;
    private bool _loading;
    private CancellationTokenSource? _term;
    private int _coordinatorEpoch;

    public TransactionShard(TransactionCoordinator coordinator, int partition, IOffsetsLog stateLog, TimeProvider time, ILogger log)
    {
        _coordinator = coordinator;
        Partition = partition;
        _stateLog = stateLog;
        _time = time;
        _log = log;
        Loop = new EventLoop($"transaction coordinator shard {TransactionStateTopic.Name}-{partition}", log);
    }

    public int Partition { get; }
    public EventLoop Loop { get; }
    public bool IsLoaded => Volatile.Read(ref _loaded);
    /// <summary>Transactional ids this shard holds (for metrics; read off the loop, so possibly one change stale).</summary>
    public int TransactionalIdCount => _transactions.Count;
    private TransactionCoordinatorOptions Options => _coordinator.Options;
    private ProducerIdManager ProducerIds => _coordinator.ProducerIds;
    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>While loading, requests are answered COORDINATOR_LOAD_IN_PROGRESS (set before the load is queued).</summary>
    public bool IsLoading => Volatile.Read(ref _loading);

    /// <summary>
    /// Replays the partition (what this broker's log holds: as a new leader, all the previous one had replicated),
    /// finishes transactions left in PrepareCommit/PrepareAbort by writing their markers, starts the timeout timer
    /// (which aborts open transactions past their timeout, as after any load).
    /// </summary>
    public Task<int> LoadAsync()
    {
        Volatile.Write(ref _loading, true);
        var term = new CancellationTokenSource();
        var previous = Interlocked.Exchange(ref _term, term);
        previous?.Cancel();
        return Loop.RunAsync(async () =>
        {
            try
            {
                if (_loaded || term.IsCancellationRequested) return _transactions.Count;
                _transactions.Clear();
                foreach (var batch in _stateLog.ReadAll(Partition))
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
                                record.Offset, TransactionStateTopic.Name, Partition, e.Message);
                        }
                    }
                }
                _coordinatorEpoch = _coordinator.CoordinatorEpochOf(Partition);
                foreach (var txn in _transactions.Values.Where(t => t.IsCompleting).ToList())
                {
                    _log.LogInformation("Finishing transaction {Txn} that its previous coordinator left ending", LogSafe.Text(txn));
                    await CompleteAsync(txn, txn.State == TransactionState.PrepareCommit, term.Token);
                }
                Volatile.Write(ref _loaded, true);
                var interval = TimeSpan.FromMilliseconds(Options.AbortTimedOutIntervalMs);
                using (ExecutionContext.SuppressFlow())
                    _timer = _time.CreateTimer(_ => Loop.Post(AbortTimedOutAsync), null, interval, interval);
                _log.LogInformation("Transaction coordinator shard {Topic}-{Partition} loaded {Count} transactional ids",
                    TransactionStateTopic.Name, Partition, _transactions.Count);
                return _transactions.Count;
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
                _transactions.Clear();
                return 0;
            }
            finally
            {
                if (ReferenceEquals(Volatile.Read(ref _term), term)) Volatile.Write(ref _loading, false);
            }
        });
    }

    /// <summary>
    /// Stops serving: work in progress gives up (markers not yet written are the next coordinator's), the timer stops
    /// and the state is dropped (the partition holds it).
    /// </summary>
    public Task UnloadAsync()
    {
        Interlocked.Exchange(ref _term, null)?.Cancel();
        Volatile.Write(ref _loading, false);
        return Loop.Run(() =>
        {
            Volatile.Write(ref _loaded, false);
            _timer?.Dispose();
            _timer = null;
            _transactions.Clear();
            return true;
        });
    }

    private CancellationToken Term => Volatile.Read(ref _term)?.Token ?? new CancellationToken(canceled: true);

    /// <summary>
    /// InitProducerId with a transactional id: a producer id and a new epoch for it, fencing any earlier producer with
    /// the same id. A transaction still open is aborted first (with a bumped epoch, so the old producer cannot add to it).
    /// With <paramref name="expectedProducerId"/>/<paramref name="expectedEpoch"/> (v3+, KIP-360) a producer may bump
    /// its own epoch after an error, as long as it is still the current one.
    /// </summary>
    public async Task<(KafkaError Error, long ProducerId, short Epoch)> InitProducerIdAsync(string transactionalId, int timeoutMs,
        long expectedProducerId, short expectedEpoch, CancellationToken ct)
    {
        if (!_loaded) return (KafkaError.NotCoordinator, -1, -1);
        long now = NowMs;
        if (!_transactions.TryGetValue(transactionalId, out var txn))
        {
            txn = new TransactionMetadata(transactionalId) { ProducerId = await ProducerIds.NextAsync(ct), ProducerEpoch = 0 };
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
                if (!await PersistAndCompleteAsync(txn, commit: false, now)) return (KafkaError.NotCoordinator, -1, -1);
            }
            await BumpEpochAsync(txn, ct);
        }
        txn.TimeoutMs = timeoutMs;
        txn.FencedEpoch = -1;
        txn.State = TransactionState.Empty;
        txn.Partitions.Clear();
        txn.StartTimestampMs = -1;
        txn.LastUpdateTimestampMs = now;
        if (!await PersistAsync(txn)) return (KafkaError.NotCoordinator, -1, -1);
        _transactions[transactionalId] = txn;
        return (KafkaError.None, txn.ProducerId, txn.ProducerEpoch);
    }

    /// <summary>
    /// AddPartitionsToTxn (and AddOffsetsToTxn, with the group's <c>__consumer_offsets</c> partition): adds partitions to
    /// the producer's transaction, starting it if none is open. Returns one error for the whole request.
    /// </summary>
    public async Task<KafkaError> AddPartitionsAsync(string transactionalId, long producerId, short epoch, IReadOnlyCollection<(string Topic, int Partition)> partitions)
    {
        if (!_loaded) return KafkaError.NotCoordinator;
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
        return await PersistAsync(txn) ? KafkaError.None : KafkaError.NotCoordinator;
    }

    /// <summary>EndTxn: commits or aborts the producer's transaction (a retry of a finished end succeeds again).</summary>
    public async Task<KafkaError> EndTransactionAsync(string transactionalId, long producerId, short epoch, bool commit)
    {
        if (!_loaded) return KafkaError.NotCoordinator;
        if (Check(transactionalId, producerId, epoch, out var txn) is { } error) return error;
        switch (txn.State)
        {
            case TransactionState.Ongoing:
                return await PersistAndCompleteAsync(txn, commit, NowMs) ? KafkaError.None : KafkaError.NotCoordinator;
            case TransactionState.CompleteCommit when commit:
            case TransactionState.CompleteAbort when !commit:
                return KafkaError.None;
            case TransactionState.PrepareCommit or TransactionState.PrepareAbort:
                return KafkaError.ConcurrentTransactions;
            default:
                return KafkaError.InvalidTxnState;
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
    private async Task<bool> PersistAndCompleteAsync(TransactionMetadata txn, bool commit, long now)
    {
        var before = txn.State;
        txn.State = commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort;
        txn.LastUpdateTimestampMs = now;
        if (!await PersistAsync(txn))
        {
            // Not recorded (or not replicated, so a new coordinator may not know it): the transaction stays open and
            // the client may retry.
            txn.State = before;
            return false;
        }
        try
        {
            await CompleteAsync(txn, commit, Term);
        }
        catch (OperationCanceledException)
        {
            // Unloaded while writing markers: the transaction is recorded as ending; the next coordinator finishes it.
            return false;
        }
        return true;
    }

    /// <summary>Writes the markers into every partition of the transaction, settles its offsets, and records the outcome.</summary>
    private async Task CompleteAsync(TransactionMetadata txn, bool commit, CancellationToken ct)
    {
        await _coordinator.Markers.WriteAsync(txn, commit, _coordinatorEpoch, ct);
        txn.State = commit ? TransactionState.CompleteCommit : TransactionState.CompleteAbort;
        txn.Partitions.Clear();
        txn.LastUpdateTimestampMs = NowMs;
        if (!await PersistAsync(txn)) _log.LogWarning("Transaction {Txn}: its completion could not be recorded; it is finished again at the next load", LogSafe.Text(txn));
    }

    /// <summary>The next epoch for the transactional id; a new producer id once the epoch is used up.</summary>
    private async Task BumpEpochAsync(TransactionMetadata txn, CancellationToken ct)
    {
        if (txn.ProducerEpoch >= short.MaxValue - 1)
        {
            txn.ProducerId = await ProducerIds.NextAsync(ct);
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

    private Task<bool> PersistAsync(TransactionMetadata txn) => WriteStateAsync(txn.TransactionalId, TransactionLogRecords.ValueOf(txn));

    /// <summary>A tombstone: the transactional id is forgotten.</summary>
    private Task<bool> PersistTombstoneAsync(string transactionalId) => WriteStateAsync(transactionalId, null);

    /// <summary>
    /// Appends the id's new state and waits until the partition's followers have it (acks=all), so whatever this
    /// coordinator answers survives its broker: false if either fails.
    /// </summary>
    private async Task<bool> WriteStateAsync(string transactionalId, byte[]? value)
    {
        var records = new RecordBatchBuilder().Add(NowMs, TransactionLogRecords.KeyOf(transactionalId), value);
        Task<KafkaError> replicated;
        try
        {
            _stateLog.Append(Partition, records.Build());
            replicated = _stateLog.WhenReplicatedAsync(Partition);
        }
        catch (Exception e) when (e is LogException or IOException or ObjectDisposedException)
        {
            _log.LogError(e, "Could not write the state of transactional id {Id} to {Topic}", LogSafe.Text(transactionalId), TransactionStateTopic.Name);
            return false;
        }
        var error = await replicated;
        if (error == KafkaError.None) return true;
        _log.LogWarning("The state of transactional id {Id} was not replicated in {Topic}-{Partition}: {Error}", LogSafe.Text(transactionalId),
            TransactionStateTopic.Name, Partition, error);
        return false;
    }

    /// <summary>
    /// Aborts transactions open longer than their timeout and fences their producers (the next epoch), and forgets
    /// transactional ids with no transaction open that have not been used for transactional.id.expiration.ms.
    /// </summary>
    private async Task AbortTimedOutAsync()
    {
        if (!_loaded) return;
        try
        {
            long now = NowMs;
            foreach (var txn in _transactions.Values)
            {
                if (txn.State != TransactionState.Ongoing || txn.StartTimestampMs + txn.TimeoutMs > now) continue;
                _log.LogInformation("Aborting transaction {Txn}: open for more than its timeout of {Timeout} ms", LogSafe.Text(txn), txn.TimeoutMs);
                FenceEpoch(txn);
                await PersistAndCompleteAsync(txn, commit: false, now);
            }
            foreach (var txn in _transactions.Values.Where(t => (t.State is TransactionState.Empty or TransactionState.CompleteCommit or TransactionState.CompleteAbort)
                         && t.LastUpdateTimestampMs + Options.TransactionalIdExpirationMs <= now).ToList())
            {
                if (!await PersistTombstoneAsync(txn.TransactionalId)) continue;
                _transactions.Remove(txn.TransactionalId);
                _log.LogInformation("Transactional id {Id} expired: unused for {Ms} ms", LogSafe.Text(txn.TransactionalId), Options.TransactionalIdExpirationMs);
            }
        }
        catch (Exception e)
        {
            _log.LogError(e, "Aborting timed-out transactions failed");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await UnloadAsync().ConfigureAwait(false);
        _term?.Dispose();
        await Loop.DisposeAsync().ConfigureAwait(false);
    }
}
