using Quill.Broker.Config;
using Quill.Broker.Log;

namespace Quill.Broker;

/// <summary>
/// Everything a broker is configured with, as plain settings (server.properties maps onto this; tests and
/// `quill start` build one directly). Defaults are Kafka's, except where a field says otherwise.
/// </summary>
public sealed class BrokerOptions
{
    /// <summary>broker.id.</summary>
    public int BrokerId { get; set; }
    /// <summary>The address the Kafka listener binds (from listeners=PLAINTEXT://host:port); "" or 0.0.0.0 for all.</summary>
    public string ListenHost { get; set; } = "127.0.0.1";
    /// <summary>The Kafka port; 0 picks a free one (read it back from <see cref="BrokerServer.Port"/>).</summary>
    public int Port { get; set; } = 9092;
    /// <summary>advertised.listeners host: what Metadata tells clients; null means the listen host (or 127.0.0.1 for a wildcard).</summary>
    public string? AdvertisedHost { get; set; }
    /// <summary>advertised.listeners port; null means the bound port.</summary>
    public int? AdvertisedPort { get; set; }
    /// <summary>
    /// listeners: every named listener the broker binds (NAME://host:port). Empty means one PLAINTEXT listener on
    /// <see cref="ListenHost"/>:<see cref="Port"/>; server.properties fills it (and sets those two to the first listener).
    /// </summary>
    public List<ListenerEndpoint> Listeners { get; set; } = [];
    /// <summary>
    /// advertised.listeners: what each listener tells clients and other brokers (a subset of the listener names; host ""
    /// means the listener's host, port 0 its bound port). Null means the listeners themselves, the first one with
    /// <see cref="AdvertisedHost"/>/<see cref="AdvertisedPort"/> when set.
    /// </summary>
    public List<ListenerEndpoint>? AdvertisedListeners { get; set; }
    /// <summary>listener.security.protocol.map (listener name → security protocol); Kafka's default, and only PLAINTEXT is served.</summary>
    public Dictionary<string, string> ListenerSecurityProtocolMap { get; set; } = ListenerConfig.DefaultProtocolMap();
    /// <summary>inter.broker.listener.name (or the listener named after security.inter.broker.protocol): what brokers connect to each other on.</summary>
    public string InterBrokerListenerName { get; set; } = ListenerConfig.Plaintext;
    /// <summary>control.plane.listener.name: the listener the controller reaches brokers on; null means the inter-broker one.</summary>
    public string? ControlPlaneListenerName { get; set; }
    /// <summary>broker.rack.</summary>
    public string? Rack { get; set; }
    /// <summary>log.dirs (or log.dir).</summary>
    public List<string> LogDirs { get; set; } = ["/tmp/kafka-logs"];

    /// <summary>num.partitions: partitions of auto-created topics and of CreateTopics with -1.</summary>
    public int NumPartitions { get; set; } = 1;
    /// <summary>default.replication.factor.</summary>
    public short DefaultReplicationFactor { get; set; } = 1;
    /// <summary>auto.create.topics.enable.</summary>
    public bool AutoCreateTopicsEnable { get; set; } = true;
    /// <summary>delete.topic.enable.</summary>
    public bool DeleteTopicEnable { get; set; } = true;
    /// <summary>socket.request.max.bytes: a bigger request frame closes the connection.</summary>
    public int SocketRequestMaxBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>The log.* defaults every topic starts from (message.max.bytes becomes max.message.bytes, and so on).</summary>
    public LogConfig LogDefaults { get; set; } = new() { MaxMessageBytes = 1024 * 1024 + 12 };
    /// <summary>log.retention.check.interval.ms: how often retention and producer expiry run.</summary>
    public long RetentionCheckIntervalMs { get; set; } = 5 * 60 * 1000;
    /// <summary>log.flush.scheduler.interval.ms: how often logs are checked against flush.ms (Kafka's default is never).</summary>
    public long FlushSchedulerIntervalMs { get; set; } = long.MaxValue;
    /// <summary>log.flush.offset.checkpoint.interval.ms: how often recovery points are checkpointed.</summary>
    public long FlushCheckpointIntervalMs { get; set; } = 60_000;
    /// <summary>log.cleaner.backoff.ms: how often the log cleaner looks for compacted logs to clean.</summary>
    public long LogCleanerBackoffMs { get; set; } = 15_000;

    /// <summary>replica.lag.time.max.ms: a follower not caught up with the leader for this long leaves the ISR.</summary>
    public long ReplicaLagTimeMaxMs { get; set; } = 30_000;
    /// <summary>replica.fetch.wait.max.ms: how long a follower's fetch waits at the leader for new data.</summary>
    public int ReplicaFetchWaitMaxMs { get; set; } = 500;

    /// <summary>controlled.shutdown.enable: a stopping broker first asks the controller to move its leaderships away.</summary>
    public bool ControlledShutdownEnable { get; set; } = true;
    /// <summary>quill.partition.state.watches (default true): also follow partition states through Keeper watches (the fallback path beside the controller's requests).</summary>
    public bool PartitionStateWatches { get; set; } = true;
    /// <summary>controlled.shutdown.max.retries: further attempts when partitions remain led here (or the request fails).</summary>
    public int ControlledShutdownMaxRetries { get; set; } = 3;
    /// <summary>controlled.shutdown.retry.backoff.ms: the wait between those attempts.</summary>
    public long ControlledShutdownRetryBackoffMs { get; set; } = 5000;
    /// <summary>auto.leader.rebalance.enable: the controller moves leaderships back to the preferred replicas.</summary>
    public bool AutoLeaderRebalanceEnable { get; set; } = true;
    /// <summary>leader.imbalance.check.interval.seconds: how often the controller looks at the leader balance.</summary>
    public long LeaderImbalanceCheckIntervalSeconds { get; set; } = 300;
    /// <summary>leader.imbalance.per.broker.percentage: the share of a broker's preferred partitions led elsewhere that it tolerates.</summary>
    public int LeaderImbalancePerBrokerPercentage { get; set; } = 10;
    /// <summary>unclean.leader.election.enable: with no in-sync replica alive, a replica out of the ISR may lead (losing records).</summary>
    public bool UncleanLeaderElectionEnable { get; set; }

    /// <summary>zookeeper.connect: the Keeper (or Apache ZooKeeper) ensemble, optionally with a chroot.</summary>
    public string ZooKeeperConnect { get; set; } = "";
    /// <summary>zookeeper.connection.timeout.ms: how long to wait for the first connection.</summary>
    public int ZooKeeperConnectionTimeoutMs { get; set; } = 18_000;
    /// <summary>zookeeper.session.timeout.ms.</summary>
    public int ZooKeeperSessionTimeoutMs { get; set; } = 18_000;

    /// <summary>offsets.topic.replication.factor.</summary>
    public short OffsetsTopicReplicationFactor { get; set; } = 3;
    /// <summary>offsets.topic.num.partitions.</summary>
    public int OffsetsTopicNumPartitions { get; set; } = 50;
    /// <summary>offsets.topic.segment.bytes.</summary>
    public int OffsetsTopicSegmentBytes { get; set; } = 100 * 1024 * 1024;
    /// <summary>group.initial.rebalance.delay.ms.</summary>
    public int GroupInitialRebalanceDelayMs { get; set; } = 3000;
    /// <summary>group.min.session.timeout.ms.</summary>
    public int GroupMinSessionTimeoutMs { get; set; } = 6000;
    /// <summary>group.max.session.timeout.ms.</summary>
    public int GroupMaxSessionTimeoutMs { get; set; } = 1_800_000;
    /// <summary>transaction.state.log.replication.factor (like offsets.topic.replication.factor, capped at the live brokers).</summary>
    public short TransactionStateLogReplicationFactor { get; set; } = 3;
    /// <summary>
    /// transaction.state.log.min.isr: the topic's min.insync.replicas, so a coordinator's answer survives the loss of its
    /// broker; capped at the replication factor (Kafka is not, and refuses every transaction on a smaller cluster).
    /// </summary>
    public short TransactionStateLogMinIsr { get; set; } = 2;
    /// <summary>transaction.state.log.num.partitions.</summary>
    public int TransactionStateLogNumPartitions { get; set; } = 50;
    /// <summary>transaction.state.log.segment.bytes.</summary>
    public int TransactionStateLogSegmentBytes { get; set; } = 100 * 1024 * 1024;
    /// <summary>transaction.max.timeout.ms: the longest transaction.timeout.ms a producer may ask for.</summary>
    public int TransactionMaxTimeoutMs { get; set; } = 900_000;
    /// <summary>transactional.id.expiration.ms.</summary>
    public long TransactionalIdExpirationMs { get; set; } = 7L * 24 * 3600 * 1000;
    /// <summary>transaction.abort.timed.out.transaction.cleanup.interval.ms.</summary>
    public int TransactionAbortTimedOutIntervalMs { get; set; } = 10_000;
    /// <summary>offsets.retention.minutes.</summary>
    public int OffsetsRetentionMinutes { get; set; } = 7 * 24 * 60;

    /// <summary>metrics.http.port: Prometheus /metrics and /health over HTTP; 0 (the default) turns it off.</summary>
    public int MetricsPort { get; set; }
    /// <summary>metrics.http.host: the address the metrics port binds; null means the Kafka listener's.</summary>
    public string? MetricsHost { get; set; }

    /// <summary>Every key=value the configuration file held (DescribeConfigs reports them as static broker configs).</summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The listeners to bind: <see cref="Listeners"/>, or the single PLAINTEXT one of <see cref="ListenHost"/>:<see cref="Port"/>.</summary>
    public IReadOnlyList<ListenerEndpoint> EffectiveListeners =>
        Listeners.Count > 0 ? Listeners : [new ListenerEndpoint(ListenerConfig.Plaintext, ListenHost, Port)];

    /// <summary>advertised.listeners as configured (host and port may still be "" and 0).</summary>
    public IReadOnlyList<ListenerEndpoint> ConfiguredAdvertisedListeners
    {
        get
        {
            if (AdvertisedListeners is { } advertised) return advertised;
            var listeners = EffectiveListeners.ToList();
            if (AdvertisedHost is { Length: > 0 } || AdvertisedPort is not null)
                listeners[0] = listeners[0] with { Host = AdvertisedHost is { Length: > 0 } h ? h : listeners[0].Host, Port = AdvertisedPort ?? listeners[0].Port };
            return listeners;
        }
    }

    /// <summary>
    /// What this broker registers and tells clients: each advertised listener with a routable host (a wildcard or empty
    /// one becomes the listener's own host, or 127.0.0.1) and its bound port where 0 was configured.
    /// </summary>
    public List<ListenerEndpoint> ResolveAdvertisedListeners(Func<string, int> boundPort)
    {
        var bound = EffectiveListeners.ToDictionary(l => l.Name, StringComparer.Ordinal);
        return [.. ConfiguredAdvertisedListeners.Select(a =>
        {
            string host = a.Host;
            if (host is "" or "0.0.0.0" or "::")
                host = bound.TryGetValue(a.Name, out var l) && l.Host is not ("" or "0.0.0.0" or "::") ? l.Host : "127.0.0.1";
            return new ListenerEndpoint(a.Name, host, a.Port == 0 ? boundPort(a.Name) : a.Port);
        })];
    }

    /// <summary>Checks the listener settings as Kafka does (see <see cref="ListenerConfig.Validate"/>).</summary>
    public void ValidateListeners() =>
        ListenerConfig.Validate(EffectiveListeners, ConfiguredAdvertisedListeners, ListenerSecurityProtocolMap, InterBrokerListenerName, ControlPlaneListenerName);

    /// <summary>The host clients are told to connect to.</summary>
    public string EffectiveAdvertisedHost =>
        AdvertisedHost is { Length: > 0 } host ? host : ListenHost is "" or "0.0.0.0" or "::" ? "127.0.0.1" : ListenHost;
}
