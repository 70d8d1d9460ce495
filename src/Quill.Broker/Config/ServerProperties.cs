using System.Globalization;
using Quill.Broker.Log;

namespace Quill.Broker.Config;

/// <summary>A configuration value the broker refuses; the message names the key.</summary>
public sealed class BrokerConfigException(string message) : Exception(message);

/// <summary>
/// Reads server.properties as Kafka does: the keys below map onto <see cref="BrokerOptions"/>; thread-count and
/// tuning keys Quill has no use for are accepted silently; any other key is reported as a warning; a bad value
/// throws <see cref="BrokerConfigException"/> naming the key. Precedence follows Kafka (log.retention.ms over
/// .minutes over .hours, log.roll.ms over .hours, log.dirs over log.dir).
/// </summary>
public static class ServerProperties
{
    /// <summary>Keys Kafka knows that do not change what Quill does (threads, buffers, replication, security defaults).</summary>
    private static readonly HashSet<string> Accepted = new(StringComparer.Ordinal)
    {
        "num.network.threads", "num.io.threads", "num.recovery.threads.per.data.dir", "num.replica.fetchers",
        "num.replica.alter.log.dirs.threads", "background.threads", "socket.send.buffer.bytes", "socket.receive.buffer.bytes",
        "queued.max.requests", "queued.max.request.bytes",
        "zookeeper.set.acl", "zookeeper.max.in.flight.requests", "log.cleaner.enable",
        "log.cleaner.threads", "log.cleaner.dedupe.buffer.size", "log.cleaner.min.cleanable.ratio",
        "replica.fetch.max.bytes", "replica.socket.timeout.ms", "group.max.size", "connections.max.idle.ms", "request.timeout.ms",
        "max.connections", "max.connections.per.ip", "compression.type", "log.preallocate", "offsets.commit.timeout.ms",
        "offsets.load.buffer.size", "offsets.topic.compression.codec",
        "transaction.state.log.load.buffer.size", "metrics.num.samples", "metrics.sample.window.ms", "quota.window.num",
        "quota.window.size.seconds", "broker.id.generation.enable", "reserved.broker.max.id", "confluent.support.metrics.enable",
        "offsets.retention.check.interval.ms", "fetch.purgatory.purge.interval.requests",
        "producer.purgatory.purge.interval.requests", "delete.records.purgatory.purge.interval.requests",
    };

    public static BrokerOptions Load(string path, Action<string> warn)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BrokerConfigException($"cannot read {path}: {e.Message}");
        }
        return Parse(PropertiesFile.Parse(text), warn);
    }

    public static BrokerOptions Parse(IReadOnlyDictionary<string, string> properties, Action<string> warn)
    {
        var options = new BrokerOptions { Properties = new Dictionary<string, string>(properties, StringComparer.Ordinal) };
        var reader = new Reader(properties);
        var log = options.LogDefaults;

        options.BrokerId = reader.Int("broker.id", options.BrokerId, min: 0);
        ReadListeners(reader, options);
        options.Rack = reader.String("broker.rack") ?? options.Rack;
        string? dirs = reader.String("log.dirs") ?? reader.String("log.dir");
        if (dirs is not null)
        {
            var list = dirs.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
            if (list.Count == 0) throw new BrokerConfigException($"{(reader.Has("log.dirs") ? "log.dirs" : "log.dir")}: no directory given");
            options.LogDirs = list;
        }
        reader.MarkRead("log.dir");

        options.NumPartitions = reader.Int("num.partitions", options.NumPartitions, min: 1);
        options.DefaultReplicationFactor = (short)reader.Int("default.replication.factor", options.DefaultReplicationFactor, min: 1, max: short.MaxValue);
        options.AutoCreateTopicsEnable = reader.Bool("auto.create.topics.enable", options.AutoCreateTopicsEnable);
        options.DeleteTopicEnable = reader.Bool("delete.topic.enable", options.DeleteTopicEnable);
        options.SocketRequestMaxBytes = reader.Int("socket.request.max.bytes", options.SocketRequestMaxBytes, min: 1);
        options.MetricsPort = reader.Int("metrics.http.port", options.MetricsPort, min: 0, max: 65535);
        options.MetricsHost = reader.String("metrics.http.host") is { Length: > 0 } metricsHost ? metricsHost : null;

        long retentionMs = reader.Long("log.retention.ms", long.MinValue, min: -1);
        if (retentionMs == long.MinValue)
        {
            long minutes = reader.Long("log.retention.minutes", long.MinValue, min: -1);
            long hours = reader.Long("log.retention.hours", 168, min: -1);
            retentionMs = minutes != long.MinValue ? (minutes < 0 ? -1 : minutes * 60_000) : hours < 0 ? -1 : hours * 3_600_000;
        }
        else
        {
            reader.MarkRead("log.retention.minutes");
            reader.MarkRead("log.retention.hours");
        }
        long rollMs = reader.Long("log.roll.ms", long.MinValue, min: 1);
        if (rollMs == long.MinValue) rollMs = reader.Long("log.roll.hours", 168, min: 1) * 3_600_000;
        else reader.MarkRead("log.roll.hours");

        log = log with
        {
            MaxMessageBytes = reader.Int("message.max.bytes", log.MaxMessageBytes, min: 0),
            RetentionMs = retentionMs,
            RetentionBytes = reader.Long("log.retention.bytes", log.RetentionBytes, min: -1),
            SegmentBytes = reader.Int("log.segment.bytes", log.SegmentBytes, min: 14),
            SegmentMs = rollMs,
            SegmentIndexBytes = reader.Int("log.index.size.max.bytes", log.SegmentIndexBytes, min: 8),
            IndexIntervalBytes = reader.Int("log.index.interval.bytes", log.IndexIntervalBytes, min: 0),
            FlushMessages = reader.Long("log.flush.interval.messages", log.FlushMessages, min: 1),
            FlushMs = reader.Long("log.flush.interval.ms", log.FlushMs, min: 0),
            CleanupPolicy = reader.Parsed("log.cleanup.policy", log.CleanupPolicy, TopicConfigs.ParseCleanupPolicy),
            DeleteRetentionMs = reader.Long("log.cleaner.delete.retention.ms", log.DeleteRetentionMs, min: 0),
            LogAppendTime = reader.Parsed("log.message.timestamp.type", log.LogAppendTime, TopicConfigs.ParseTimestampType),
            FileDeleteDelayMs = reader.Long("log.segment.delete.delay.ms", log.FileDeleteDelayMs, min: 0),
            ProducerIdExpirationMs = reader.Long("producer.id.expiration.ms", log.ProducerIdExpirationMs, min: 1),
            MinInSyncReplicas = reader.Int("min.insync.replicas", log.MinInSyncReplicas, min: 1),
        };
        // A flush interval set in ms is checked by the scheduler; Kafka's default scheduler interval is "never",
        // which would silently ignore the setting, so follow the flush interval unless the scheduler is set.
        options.FlushSchedulerIntervalMs = reader.Long("log.flush.scheduler.interval.ms",
            log.FlushMs == long.MaxValue ? long.MaxValue : Math.Max(10, Math.Min(log.FlushMs, 1000)), min: 1);
        options.LogDefaults = log;
        options.RetentionCheckIntervalMs = reader.Long("log.retention.check.interval.ms", options.RetentionCheckIntervalMs, min: 1);
        options.FlushCheckpointIntervalMs = reader.Long("log.flush.offset.checkpoint.interval.ms", options.FlushCheckpointIntervalMs, min: 1);
        options.LogCleanerBackoffMs = reader.Long("log.cleaner.backoff.ms", options.LogCleanerBackoffMs, min: 1);

        options.ReplicaLagTimeMaxMs = reader.Long("replica.lag.time.max.ms", options.ReplicaLagTimeMaxMs, min: 1);
        options.ReplicaFetchWaitMaxMs = reader.Int("replica.fetch.wait.max.ms", options.ReplicaFetchWaitMaxMs, min: 0);

        options.ControlledShutdownEnable = reader.Bool("controlled.shutdown.enable", options.ControlledShutdownEnable);
        options.PartitionStateWatches = reader.Bool("quill.partition.state.watches", options.PartitionStateWatches);
        options.ControlledShutdownMaxRetries = reader.Int("controlled.shutdown.max.retries", options.ControlledShutdownMaxRetries, min: 0);
        options.ControlledShutdownRetryBackoffMs = reader.Long("controlled.shutdown.retry.backoff.ms", options.ControlledShutdownRetryBackoffMs, min: 0);
        options.AutoLeaderRebalanceEnable = reader.Bool("auto.leader.rebalance.enable", options.AutoLeaderRebalanceEnable);
        options.LeaderImbalanceCheckIntervalSeconds = reader.Long("leader.imbalance.check.interval.seconds", options.LeaderImbalanceCheckIntervalSeconds, min: 1);
        options.LeaderImbalancePerBrokerPercentage = reader.Int("leader.imbalance.per.broker.percentage", options.LeaderImbalancePerBrokerPercentage, min: 0, max: 100);
        options.UncleanLeaderElectionEnable = reader.Bool("unclean.leader.election.enable", options.UncleanLeaderElectionEnable);

        options.ZooKeeperConnect = reader.String("zookeeper.connect") ?? options.ZooKeeperConnect;
        options.ZooKeeperConnectionTimeoutMs = reader.Int("zookeeper.connection.timeout.ms", options.ZooKeeperConnectionTimeoutMs, min: 1);
        options.ZooKeeperSessionTimeoutMs = reader.Int("zookeeper.session.timeout.ms", options.ZooKeeperSessionTimeoutMs, min: 1);

        options.OffsetsTopicReplicationFactor = (short)reader.Int("offsets.topic.replication.factor", options.OffsetsTopicReplicationFactor, min: 1, max: short.MaxValue);
        options.OffsetsTopicNumPartitions = reader.Int("offsets.topic.num.partitions", options.OffsetsTopicNumPartitions, min: 1);
        options.OffsetsTopicSegmentBytes = reader.Int("offsets.topic.segment.bytes", options.OffsetsTopicSegmentBytes, min: 14);
        options.OffsetsRetentionMinutes = reader.Int("offsets.retention.minutes", options.OffsetsRetentionMinutes, min: 1);
        options.GroupInitialRebalanceDelayMs = reader.Int("group.initial.rebalance.delay.ms", options.GroupInitialRebalanceDelayMs, min: 0);
        options.GroupMinSessionTimeoutMs = reader.Int("group.min.session.timeout.ms", options.GroupMinSessionTimeoutMs, min: 0);
        options.GroupMaxSessionTimeoutMs = reader.Int("group.max.session.timeout.ms", options.GroupMaxSessionTimeoutMs, min: 0);
        options.TransactionStateLogReplicationFactor = (short)reader.Int("transaction.state.log.replication.factor", options.TransactionStateLogReplicationFactor, min: 1, max: short.MaxValue);
        options.TransactionStateLogMinIsr = (short)reader.Int("transaction.state.log.min.isr", options.TransactionStateLogMinIsr, min: 1, max: short.MaxValue);
        options.TransactionStateLogNumPartitions = reader.Int("transaction.state.log.num.partitions", options.TransactionStateLogNumPartitions, min: 1);
        options.TransactionStateLogSegmentBytes = reader.Int("transaction.state.log.segment.bytes", options.TransactionStateLogSegmentBytes, min: 14);
        options.TransactionalIdExpirationMs = reader.Long("transactional.id.expiration.ms", options.TransactionalIdExpirationMs, min: 1);
        options.TransactionMaxTimeoutMs = reader.Int("transaction.max.timeout.ms", options.TransactionMaxTimeoutMs, min: 1);
        options.TransactionAbortTimedOutIntervalMs = reader.Int("transaction.abort.timed.out.transaction.cleanup.interval.ms", options.TransactionAbortTimedOutIntervalMs, min: 1);

        // Kafka 3.x checks both version strings at startup, then (from 3.0 on) writes every log in the v2 format
        // whatever they say; so does Quill. The value of log.message.format.version is what topics describe.
        foreach (string key in new[] { "inter.broker.protocol.version", "log.message.format.version" })
            if (reader.String(key) is { } version && TopicConfigs.CheckKafkaVersion(version) is { } problem)
                throw new BrokerConfigException($"{key}: {problem}");

        try
        {
            log.Validate();
        }
        catch (ArgumentException e)
        {
            throw new BrokerConfigException(e.Message);
        }
        foreach (string key in properties.Keys)
            if (!reader.WasRead(key) && !Accepted.Contains(key)) warn($"unknown configuration key '{key}' is ignored");
        return options;
    }

    /// <summary>
    /// listeners, advertised.listeners, listener.security.protocol.map, inter.broker.listener.name (or
    /// security.inter.broker.protocol: only one of the two, as Kafka checks) and control.plane.listener.name, checked
    /// together as Kafka does. <see cref="BrokerOptions.ListenHost"/>/<see cref="BrokerOptions.Port"/> (and the advertised
    /// pair) are set to the first listener.
    /// </summary>
    private static void ReadListeners(Reader reader, BrokerOptions options)
    {
        if (reader.String("listener.security.protocol.map") is { Length: > 0 } map)
            options.ListenerSecurityProtocolMap = ListenerConfig.ParseProtocolMap("listener.security.protocol.map", map);
        if (reader.String("listeners") is { } listeners)
        {
            options.Listeners = ListenerConfig.ParseList("listeners", listeners);
            if (options.Listeners.Count == 0) throw new BrokerConfigException("listeners: no listener given");
            (options.ListenHost, options.Port) = (options.Listeners[0].Host, options.Listeners[0].Port);
        }
        if (reader.String("advertised.listeners") is { } advertised)
        {
            options.AdvertisedListeners = ListenerConfig.ParseList("advertised.listeners", advertised);
            if (options.AdvertisedListeners.FirstOrDefault(a => a.Name == options.EffectiveListeners[0].Name) is { } first)
            {
                options.AdvertisedHost = first.Host is "" ? null : first.Host;
                options.AdvertisedPort = first.Port == 0 ? null : first.Port;
            }
        }
        string? interBroker = reader.String("inter.broker.listener.name");
        string? interProtocol = reader.String("security.inter.broker.protocol");
        if (interBroker is { Length: > 0 } && interProtocol is not null)
            throw new BrokerConfigException("inter.broker.listener.name: Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.");
        if (interBroker is { Length: > 0 }) options.InterBrokerListenerName = interBroker.ToUpperInvariant();
        else if (interProtocol is not null)
        {
            string protocol = ListenerConfig.ParseProtocol("security.inter.broker.protocol", interProtocol);
            if (protocol != ListenerConfig.Plaintext)
                throw new BrokerConfigException($"security.inter.broker.protocol: {protocol} is not supported; Quill serves PLAINTEXT only");
            options.InterBrokerListenerName = protocol;
        }
        if (reader.String("control.plane.listener.name") is { Length: > 0 } controlPlane)
            options.ControlPlaneListenerName = controlPlane.ToUpperInvariant();
        options.ValidateListeners();
    }

    /// <summary>Reads typed values and remembers which keys were consumed.</summary>
    private sealed class Reader(IReadOnlyDictionary<string, string> properties)
    {
        private readonly HashSet<string> _read = new(StringComparer.Ordinal);

        public bool Has(string key) => properties.ContainsKey(key);
        public bool WasRead(string key) => _read.Contains(key);
        public void MarkRead(string key) => _read.Add(key);

        public string? String(string key)
        {
            _read.Add(key);
            return properties.TryGetValue(key, out var value) ? value.Trim() : null;
        }

        public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) =>
            (int)Long(key, fallback, min, max);

        public long Long(string key, long fallback, long min = long.MinValue, long max = long.MaxValue)
        {
            if (String(key) is not { } text) return fallback;
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw new BrokerConfigException($"{key}: '{text}' is not a number");
            if (value < min || value > max)
                throw new BrokerConfigException($"{key}: {value} is out of range (at least {min}{(max == long.MaxValue || max == int.MaxValue ? "" : $", at most {max}")})");
            return value;
        }

        public bool Bool(string key, bool fallback)
        {
            if (String(key) is not { } text) return fallback;
            if (text.Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
            if (text.Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
            throw new BrokerConfigException($"{key}: '{text}' is not true or false");
        }

        public T Parsed<T>(string key, T fallback, Func<string, T> parse)
        {
            if (String(key) is not { } text) return fallback;
            try
            {
                return parse(text);
            }
            catch (ArgumentException e)
            {
                throw new BrokerConfigException($"{key}: {e.Message}");
            }
        }
    }
}
