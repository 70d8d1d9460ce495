using Microsoft.Extensions.Logging;
using Quill.Broker.Groups;
using Quill.Broker.Metadata;

namespace Quill.Broker.Transactions;

/// <summary>
/// Starts the transaction coordinator when it is first needed, as Kafka creates <c>__transaction_state</c> on the
/// first FindCoordinator for a transactional id — or at broker start when the topic already exists, so transactions a
/// crash left half-ended are finished at once. Each broker serves the shards of the partitions it leads and follows
/// their leadership. The topic is created only once transaction.state.log.replication.factor brokers are up (see
/// <see cref="Controller.EnsureInternalTopicAsync"/>); until then FindCoordinator answers COORDINATOR_NOT_AVAILABLE.
/// </summary>
public sealed class TransactionCoordinatorHost(BrokerServices services, ILogger log) : IAsyncDisposable
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private volatile TransactionCoordinator? _coordinator;
    private string? _lastFailure;

    /// <summary>The coordinator if it has started.</summary>
    public TransactionCoordinator? Current => _coordinator;

    /// <summary>Starts the coordinator now if its topic exists (broker start).</summary>
    public async Task StartIfTopicExistsAsync(CancellationToken ct)
    {
        if (services.Metadata.GetTopic(TransactionStateTopic.Name) is not null) await GetAsync(ct);
    }

    /// <summary>
    /// Whether the coordinator serves, starting it if needed (FindCoordinator): a failure to start is logged and answered
    /// as "not available yet", which clients retry, rather than closing their connection.
    /// </summary>
    public async Task<bool> TryStartAsync(CancellationToken ct)
    {
        try
        {
            return (await GetAsync(ct)).IsActive;
        }
        catch (Exception e) when (e is InvalidOperationException or Quill.Keeper.Protocol.KeeperException or IOException)
        {
            // Clients retry FindCoordinator often: the same failure is logged once, not at every retry.
            if (Interlocked.Exchange(ref _lastFailure, e.Message) != e.Message) log.LogWarning("The transaction coordinator cannot start yet: {Reason}", e.Message);
            return false;
        }
    }

    /// <summary>
    /// The broker coordinating a transactional id: the leader of its <c>__transaction_state</c> partition, or null when
    /// that has no live leader (or the coordinator has not started).
    /// </summary>
    public (int NodeId, string Host, int Port)? CoordinatorOf(string transactionalId)
    {
        if (_coordinator is not { } coordinator) return null;
        int partition = TransactionStateTopic.PartitionFor(transactionalId, coordinator.PartitionCount);
        int leader = services.Metadata.GetPartition(TransactionStateTopic.Name, partition)?.State.Leader ?? -1;
        return services.LiveBrokers.FirstOrDefault(b => b.Id == leader) is { } broker ? (broker.Id, broker.Host, broker.Port) : null;
    }

    /// <summary>The running coordinator, creating its topic and loading the local shards first if needed.</summary>
    public async Task<TransactionCoordinator> GetAsync(CancellationToken ct)
    {
        if (_coordinator is { } running) return running;
        await _starting.WaitAsync(ct);
        try
        {
            if (_coordinator is { } started) return started;
            var options = services.Options;
            var topic = await services.Controller.EnsureInternalTopicAsync(TransactionStateTopic.Name, options.TransactionStateLogNumPartitions,
                options.TransactionStateLogReplicationFactor, new Dictionary<string, string?>
                {
                    ["cleanup.policy"] = "compact",
                    ["segment.bytes"] = options.TransactionStateLogSegmentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["compression.type"] = "uncompressed",
                    ["min.insync.replicas"] = Math.Min(options.TransactionStateLogMinIsr, options.TransactionStateLogReplicationFactor)
                        .ToString(System.Globalization.CultureInfo.InvariantCulture),
                }, ct);
            var replicas = services.Replicas;
            var groups = services.Groups ?? throw new InvalidOperationException("the group coordinator has not started");
            var stateLog = new PartitionOffsetsLog(topic.Partitions.Count, p => replicas.Get(TransactionStateTopic.Name, p), services.Time,
                OffsetsTopic.CommitTimeout);
            var coordinator = new TransactionCoordinator(stateLog, replicas, groups, services.ProducerIds,
                new TransactionCoordinatorOptions
                {
                    MaxTimeoutMs = options.TransactionMaxTimeoutMs,
                    AbortTimedOutIntervalMs = options.TransactionAbortTimedOutIntervalMs,
                    TransactionalIdExpirationMs = options.TransactionalIdExpirationMs,
                }, services.Time, log,
                new TransactionMarkerWriter(replicas, groups, services.Metadata, services.BrokerId, services.Time, log));
            // Subscribed before the start reads which partitions are here, so no change falls between the two.
            services.Controller.LeadershipChanged += (name, partition, leading) =>
            {
                if (name != TransactionStateTopic.Name || partition >= topic.Partitions.Count) return;
                log.LogInformation("{Topic}-{Partition}: {Change} its transactional ids", name, partition, leading ? "loading" : "unloading");
                var change = leading ? coordinator.LoadShardAsync(partition) : coordinator.UnloadShardAsync(partition);
                change.ContinueWith(t => log.LogError(t.Exception, "Moving the transactional ids of {Topic}-{Partition} failed", name, partition),
                    TaskContinuationOptions.OnlyOnFaulted);
            };
            // Serves at once: shards still loading answer COORDINATOR_LOAD_IN_PROGRESS (finishing a transaction may
            // wait for a partition's new leader), and the others NOT_COORDINATOR.
            _ = coordinator.StartAsync(CancellationToken.None, p => replicas.Get(TransactionStateTopic.Name, p) is not null)
                .ContinueWith(t => log.LogError(t.Exception, "Loading the transaction coordinator failed"), TaskContinuationOptions.OnlyOnFaulted);
            _coordinator = coordinator;
            return coordinator;
        }
        finally
        {
            _starting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_coordinator is { } coordinator) await coordinator.DisposeAsync().ConfigureAwait(false);
    }
}
