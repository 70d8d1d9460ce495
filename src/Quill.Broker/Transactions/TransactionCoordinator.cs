using Microsoft.Extensions.Logging;
using Quill.Broker.Groups;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Kafka.Protocol;

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
/// The transaction coordinator (Kafka's TransactionCoordinator and TransactionStateManager): maps transactional ids to producer ids and epochs (InitProducerId), records which partitions
/// and groups a transaction touches (AddPartitionsToTxn, AddOffsetsToTxn), and ends it (EndTxn) by writing a COMMIT
/// or ABORT marker into each of them and telling the group coordinator to keep or drop the transaction's offsets.
/// Its state lives in the compacted <c>__transaction_state</c> topic: every change is written there before it is
/// answered. Transactions that outlive their timeout are aborted, and their producer fenced by an epoch bump;
/// transactional ids unused for transactional.id.expiration.ms are forgotten (a tombstone).
/// <para>
/// One <see cref="TransactionShard"/> per partition of the topic owns the ids that hash there, on its own event loop;
/// this class checks what needs no state and routes. In a cluster each broker serves the shards of the partitions it
/// leads: a shard loads when its partition's leadership arrives (replaying the partition, finishing transactions its
/// previous coordinator left half-ended; COORDINATOR_LOAD_IN_PROGRESS meanwhile) and unloads when it leaves
/// (NOT_COORDINATOR), so clients look the coordinator up again. <see cref="StartAsync"/> loads the local ones.
/// </para>
/// </summary>
public sealed class TransactionCoordinator : IAsyncDisposable
{
    private readonly IOffsetsLog _stateLog;
    private readonly TransactionShard[] _shards;
    private readonly ILogger _log;
    private volatile bool _active;

    /// <param name="markers">Where markers go; by default into this broker's own partitions only (one broker).</param>
    public TransactionCoordinator(IOffsetsLog stateLog, ReplicaManager replicas, GroupCoordinator groups, ProducerIdManager producerIds,
        TransactionCoordinatorOptions options, TimeProvider time, ILogger log, TransactionMarkerWriter? markers = null)
    {
        _stateLog = stateLog;
        Replicas = replicas;
        Groups = groups;
        ProducerIds = producerIds;
        Options = options;
        _log = log;
        Markers = markers ?? new TransactionMarkerWriter(replicas, groups, metadata: null, brokerId: -1, time, log);
        _shards = new TransactionShard[stateLog.PartitionCount];
        for (int p = 0; p < _shards.Length; p++) _shards[p] = new TransactionShard(this, p, stateLog, time, log);
    }

    internal TransactionCoordinatorOptions Options { get; }
    internal ReplicaManager Replicas { get; }
    internal GroupCoordinator Groups { get; }
    internal ProducerIdManager ProducerIds { get; }
    internal TransactionMarkerWriter Markers { get; }

    /// <summary>The number of partitions of <c>__transaction_state</c>.</summary>
    public int PartitionCount => _shards.Length;

    /// <summary>
    /// The epoch a shard's markers carry (Kafka's coordinator epoch): its partition's leader epoch, which grows with
    /// every new leader, so a partition refuses markers from a coordinator that has been replaced.
    /// </summary>
    internal int CoordinatorEpochOf(int partition) => Replicas.Get(TransactionStateTopic.Name, partition)?.LeaderEpoch ?? 0;

    public bool IsActive => _active;

    /// <summary>
    /// Transactional ids known (for metrics), read off the shards' loops: a count that is one change stale is fine there.
    /// </summary>
    public int TransactionalIdCount => _shards.Sum(s => s.TransactionalIdCount);

    /// <summary>Whether the shard of a <c>__transaction_state</c> partition serves its transactional ids.</summary>
    public bool IsShardLoaded(int partition) => _shards[partition].IsLoaded;

    /// <summary>Loads every shard, or those <paramref name="isLocal"/> names (the partitions this broker leads), in parallel; then serves.</summary>
    public async Task StartAsync(CancellationToken ct, Func<int, bool>? isLocal = null)
    {
        var loads = _shards.Where(s => isLocal?.Invoke(s.Partition) ?? true).Select(s => s.LoadAsync()).ToList();
        _active = true; // the loading shards answer COORDINATOR_LOAD_IN_PROGRESS meanwhile
        var loaded = await Task.WhenAll(loads).WaitAsync(ct);
        _log.LogInformation("Transaction coordinator loaded {Count} transactional ids from {Topic}", loaded.Sum(), TransactionStateTopic.Name);
    }

    /// <summary>Starts serving the ids of one partition (its leadership arrived): replays it first.</summary>
    public Task LoadShardAsync(int partition) => _shards[partition].LoadAsync();

    /// <summary>Stops serving the ids of one partition (its leadership left): they answer NOT_COORDINATOR.</summary>
    public Task UnloadShardAsync(int partition) => _shards[partition].UnloadAsync();

    private TransactionShard ShardFor(string transactionalId) => _shards[TransactionStateTopic.PartitionFor(transactionalId, _stateLog.PartitionCount)];

    /// <summary>
    /// InitProducerId with a transactional id: a producer id and a new epoch for it, fencing any earlier producer with
    /// the same id. A transaction still open is aborted first (with a bumped epoch, so the old producer cannot add to it).
    /// With <paramref name="expectedProducerId"/>/<paramref name="expectedEpoch"/> (v3+, KIP-360) a producer may bump
    /// its own epoch after an error, as long as it is still the current one.
    /// </summary>
    public Task<(KafkaError Error, long ProducerId, short Epoch)> InitProducerIdAsync(string transactionalId, int timeoutMs,
        long expectedProducerId, short expectedEpoch, CancellationToken ct)
    {
        if (transactionalId.Length == 0) return Task.FromResult((KafkaError.InvalidRequest, -1L, (short)-1));
        if (timeoutMs <= 0 || timeoutMs > Options.MaxTimeoutMs) return Task.FromResult((KafkaError.InvalidTransactionTimeout, -1L, (short)-1));
        if (!_active) return Task.FromResult((KafkaError.CoordinatorLoadInProgress, -1L, (short)-1));
        var shard = ShardFor(transactionalId);
        if (shard.IsLoading) return Task.FromResult((KafkaError.CoordinatorLoadInProgress, -1L, (short)-1));
        return OnLoop(shard.Loop.RunAsync(() => shard.InitProducerIdAsync(transactionalId, timeoutMs, expectedProducerId, expectedEpoch, ct)),
            (KafkaError.CoordinatorLoadInProgress, -1L, (short)-1), ct);
    }

    /// <summary>
    /// AddPartitionsToTxn (and AddOffsetsToTxn, with the group's <c>__consumer_offsets</c> partition): adds partitions to
    /// the producer's transaction, starting it if none is open. Returns one error for the whole request.
    /// </summary>
    public Task<KafkaError> AddPartitionsAsync(string transactionalId, long producerId, short epoch,
        IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct)
    {
        if (!_active) return Task.FromResult(KafkaError.CoordinatorLoadInProgress);
        var shard = ShardFor(transactionalId);
        if (shard.IsLoading) return Task.FromResult(KafkaError.CoordinatorLoadInProgress);
        return OnLoop(shard.Loop.RunAsync(() => shard.AddPartitionsAsync(transactionalId, producerId, epoch, partitions)), KafkaError.CoordinatorLoadInProgress, ct);
    }

    /// <summary>EndTxn: commits or aborts the producer's transaction (a retry of a finished end succeeds again).</summary>
    public Task<KafkaError> EndTransactionAsync(string transactionalId, long producerId, short epoch, bool commit, CancellationToken ct)
    {
        if (!_active) return Task.FromResult(KafkaError.CoordinatorLoadInProgress);
        var shard = ShardFor(transactionalId);
        if (shard.IsLoading) return Task.FromResult(KafkaError.CoordinatorLoadInProgress);
        return OnLoop(shard.Loop.RunAsync(() => shard.EndTransactionAsync(transactionalId, producerId, epoch, commit)), KafkaError.CoordinatorLoadInProgress, ct);
    }

    /// <summary>
    /// The answer of work on a shard's loop. The caller may stop waiting (<paramref name="ct"/>); the work itself runs to
    /// its end, so a change is never left half made. A loop already stopped answers <paramref name="stopped"/>.
    /// </summary>
    private static async Task<T> OnLoop<T>(Task<T> work, T stopped, CancellationToken ct)
    {
        try
        {
            return await work.WaitAsync(ct);
        }
        catch (ObjectDisposedException)
        {
            return stopped;
        }
    }

    /// <summary>Stops serving: every shard's loop finishes what it was doing and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _active = false;
        foreach (var shard in _shards) await shard.DisposeAsync().ConfigureAwait(false);
        await Markers.DisposeAsync().ConfigureAwait(false);
    }
}
