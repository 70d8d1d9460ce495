using Microsoft.Extensions.Logging;
using Quill.Broker.Groups;

namespace Quill.Broker.Transactions;

/// <summary>
/// Starts the transaction coordinator when it is first needed, as Kafka creates <c>__transaction_state</c> on the
/// first FindCoordinator for a transactional id — or at broker start when the topic already exists, so transactions a
/// crash left half-ended are finished at once. Like <c>__consumer_offsets</c>, the topic gets the replicas available
/// when fewer brokers are up than transaction.state.log.replication.factor asks for.
/// </summary>
public sealed class TransactionCoordinatorHost(BrokerServices services, ILogger log) : IAsyncDisposable
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private volatile TransactionCoordinator? _coordinator;
    private string? _lastFailure;

    /// <summary>The coordinator if it has started.</summary>
    public TransactionCoordinator? Current => _coordinator;

    /// <summary>
    /// Starts the coordinator now if its topic exists (broker start) and this broker leads all of its partitions: the
    /// coordinator does not yet split its partitions among the brokers of a cluster, so elsewhere it does not start.
    /// </summary>
    public async Task StartIfTopicExistsAsync(CancellationToken ct)
    {
        if (services.Metadata.GetTopic(TransactionStateTopic.Name) is not { } topic) return;
        if (topic.Partitions.All(p => p.State.Leader == services.BrokerId)) await GetAsync(ct);
        else log.LogInformation("{Topic} is led by other brokers too; the transaction coordinator does not start on broker {Id}",
            TransactionStateTopic.Name, services.BrokerId);
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
            if (Interlocked.Exchange(ref _lastFailure, e.Message) != e.Message) log.LogError(e, "The transaction coordinator could not start");
            return false;
        }
    }

    /// <summary>The running coordinator, creating its topic and loading it first if needed.</summary>
    public async Task<TransactionCoordinator> GetAsync(CancellationToken ct)
    {
        if (_coordinator is { } running) return running;
        await _starting.WaitAsync(ct);
        try
        {
            if (_coordinator is { } started) return started;
            var options = services.Options;
            var logs = await services.Controller.OpenInternalTopicAsync(TransactionStateTopic.Name, options.TransactionStateLogNumPartitions,
                options.TransactionStateLogReplicationFactor, new Dictionary<string, string?>
                {
                    ["cleanup.policy"] = "compact",
                    ["segment.bytes"] = options.TransactionStateLogSegmentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["compression.type"] = "uncompressed",
                    ["min.insync.replicas"] = "1",
                }, ct);
            var coordinator = new TransactionCoordinator(new PartitionOffsetsLog(logs), services.Replicas,
                services.Groups ?? throw new InvalidOperationException("the group coordinator has not started"), services.ProducerIds,
                new TransactionCoordinatorOptions
                {
                    MaxTimeoutMs = options.TransactionMaxTimeoutMs,
                    AbortTimedOutIntervalMs = options.TransactionAbortTimedOutIntervalMs,
                    TransactionalIdExpirationMs = options.TransactionalIdExpirationMs,
                }, services.Time, log);
            await coordinator.StartAsync(ct);
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
