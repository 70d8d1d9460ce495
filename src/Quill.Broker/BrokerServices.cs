using Microsoft.Extensions.Logging;
using Quill.Broker.Groups;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;

namespace Quill.Broker;

/// <summary>
/// What request handlers work with: the broker's settings, the metadata cache and the controller that changes it,
/// the partitions and their logs, producer ids, logging and the clock. Built by <see cref="BrokerServer"/>; handler
/// sets (e.g. the consumer-group handlers) take it in their constructor.
/// </summary>
public sealed class BrokerServices : IBrokerIdentity
{
    public required BrokerOptions Options { get; init; }
    /// <summary>The broker configs set at runtime in Keeper (their log defaults are already in <see cref="Options"/>).</summary>
    public required Config.DynamicBrokerConfig DynamicConfig { get; init; }
    public required MetadataCache Metadata { get; init; }
    public required Controller Controller { get; init; }
    public required ReplicaManager Replicas { get; init; }
    public required ProducerIdManager ProducerIds { get; init; }
    public required KafkaZkClient Zk { get; init; }
    public required ILoggerFactory Loggers { get; init; }
    public required TimeProvider Time { get; init; }
    /// <summary>
    /// What the handlers measure (exported when metrics.http.port is set): the broker's one instance, never a default,
    /// which would be a second "Quill.Broker" meter of zeros next to it.
    /// </summary>
    public required Metrics.BrokerMetrics Metrics { get; init; }

    public int BrokerId => Options.BrokerId;

    /// <summary>The group coordinator, once <c>__consumer_offsets</c> is open.</summary>
    public GroupCoordinator? Groups { get; internal set; }

    /// <summary>Starts (on first use) and holds the transaction coordinator.</summary>
    public Transactions.TransactionCoordinatorHost? Transactions { get; internal set; }

    int IBrokerIdentity.NodeId => Self.Id;
    string IBrokerIdentity.Host => Self.Host;
    int IBrokerIdentity.Port => Self.Port;

    (int NodeId, string Host, int Port)? IBrokerIdentity.CoordinatorOf(int offsetsPartition)
    {
        int leader = Metadata.GetPartition(OffsetsTopic.Name, offsetsPartition)?.State.Leader ?? -1;
        return LiveBrokers.FirstOrDefault(b => b.Id == leader) is { } broker ? (broker.Id, broker.Host, broker.Port) : null;
    }

    (int NodeId, string Host, int Port)? IBrokerIdentity.OnListener((int NodeId, string Host, int Port) endpoint, string listenerName) =>
        LiveBrokers.FirstOrDefault(b => b.Id == endpoint.NodeId)?.EndpointFor(listenerName) is { } e ? (endpoint.NodeId, e.Host, e.Port) : null;

    private string? _offsetsTopicProblem;

    /// <summary>
    /// Creates <c>__consumer_offsets</c> if it does not exist yet (offsets.topic.num.partitions, compacted), as Kafka
    /// does at the first FindCoordinator for a group; false while it cannot be (fewer live brokers than
    /// offsets.topic.replication.factor), which FindCoordinator answers COORDINATOR_NOT_AVAILABLE.
    /// </summary>
    public async Task<bool> EnsureOffsetsTopicAsync(CancellationToken ct)
    {
        if (Metadata.GetTopic(OffsetsTopic.Name) is not null) return true;
        try
        {
            await Controller.EnsureInternalTopicAsync(OffsetsTopic.Name, Options.OffsetsTopicNumPartitions, Options.OffsetsTopicReplicationFactor,
                new Dictionary<string, string?>
                {
                    ["cleanup.policy"] = "compact",
                    ["segment.bytes"] = Options.OffsetsTopicSegmentBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["compression.type"] = "producer",
                }, ct);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or Quill.Keeper.Protocol.KeeperException or IOException)
        {
            // Clients retry FindCoordinator often: the same reason is logged once.
            if (Interlocked.Exchange(ref _offsetsTopicProblem, e.Message) != e.Message)
                Loggers.CreateLogger("Quill.Broker.Groups").LogWarning("{Topic} cannot be created yet: {Reason}", OffsetsTopic.Name, e.Message);
            return false;
        }
    }

    /// <summary>This broker as clients must reach it (the advertised host and the bound port).</summary>
    public BrokerInfo Self { get; internal set; } = new(0, "127.0.0.1", 0, null);

    /// <summary>The brokers to tell clients about: the registered ones, with this broker as it advertises itself.</summary>
    public IReadOnlyList<BrokerInfo> LiveBrokers
    {
        get
        {
            var self = Self;
            var brokers = Metadata.Brokers.Where(b => b.Id != self.Id).Append(self).ToList();
            brokers.Sort((a, b) => a.Id.CompareTo(b.Id));
            return brokers;
        }
    }
}
