using System.Globalization;

namespace Quill.Broker.Config;

/// <summary>One config as DescribeConfigs reports it.</summary>
public sealed record ConfigEntry(string Name, string? Value, ConfigSource Source, ConfigType Type, bool ReadOnly = false, bool IsSensitive = false);

/// <summary>
/// The configs DescribeConfigs and CreateTopics report: a topic's full set (its overrides, else the broker's dynamic
/// config, else its server.properties value, else Kafka's default, each with that source), and a broker's own settings.
/// </summary>
public static class ConfigDescriber
{
    public static IEnumerable<ConfigEntry> TopicEntries(BrokerOptions options, DynamicBrokerConfig dynamic, IReadOnlyDictionary<string, string> overrides)
    {
        foreach (var def in TopicConfigs.All)
        {
            if (overrides.TryGetValue(def.Name, out var value))
                yield return new ConfigEntry(def.Name, value, ConfigSource.DynamicTopic, def.Type);
            else if (def.BrokerKey is not null && dynamic.SourceOf(def.BrokerKey) is { } dynamicSource)
                yield return new ConfigEntry(def.Name, def.Default(options), dynamicSource, def.Type);
            else if (def.BrokerKey is not null && options.Properties.ContainsKey(def.BrokerKey))
                yield return new ConfigEntry(def.Name, def.Default(options), ConfigSource.StaticBroker, def.Type);
            else
                yield return new ConfigEntry(def.Name, def.Default(options), ConfigSource.Default, def.Type);
        }
    }

    /// <summary>
    /// The configs set for every broker at runtime (what Kafka reports for the broker resource named ""), each with
    /// source DYNAMIC_DEFAULT_BROKER_CONFIG.
    /// </summary>
    public static IEnumerable<ConfigEntry> ClusterDefaultEntries(DynamicBrokerConfig dynamic) =>
        dynamic.ClusterDefaults.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => new ConfigEntry(c.Key, c.Value, ConfigSource.DynamicDefaultBroker, ConfigType.String));

    /// <summary>
    /// The broker's settings: the main ones at their effective values, every key server.properties held, and every
    /// key set at runtime, each with its source. Keys that can be changed at runtime are not read-only.
    /// </summary>
    public static IEnumerable<ConfigEntry> BrokerEntries(BrokerOptions options, DynamicBrokerConfig dynamic, int boundPort)
    {
        string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        var log = options.LogDefaults;
        var effective = new List<(string Key, string Value, ConfigType Type)>
        {
            ("broker.id", I(options.BrokerId), ConfigType.Int),
            ("listeners", string.Join(',', options.EffectiveListeners.Select((l, i) => i == 0 && l.Port == 0 ? l with { Port = boundPort } : l)), ConfigType.String),
            ("advertised.listeners", string.Join(',', options.ResolveAdvertisedListeners(name => name == options.EffectiveListeners[0].Name ? boundPort : 0)), ConfigType.String),
            ("inter.broker.listener.name", options.InterBrokerListenerName, ConfigType.String),
            ("listener.security.protocol.map", string.Join(',', options.ListenerSecurityProtocolMap.Select(p => $"{p.Key}:{p.Value}")), ConfigType.String),
            ("log.dirs", string.Join(',', options.LogDirs), ConfigType.String),
            ("num.partitions", I(options.NumPartitions), ConfigType.Int),
            ("default.replication.factor", I(options.DefaultReplicationFactor), ConfigType.Int),
            ("auto.create.topics.enable", options.AutoCreateTopicsEnable ? "true" : "false", ConfigType.Boolean),
            ("delete.topic.enable", options.DeleteTopicEnable ? "true" : "false", ConfigType.Boolean),
            ("message.max.bytes", I(log.MaxMessageBytes), ConfigType.Int),
            ("socket.request.max.bytes", I(options.SocketRequestMaxBytes), ConfigType.Int),
            ("log.retention.ms", I(log.RetentionMs), ConfigType.Long),
            ("log.retention.bytes", I(log.RetentionBytes), ConfigType.Long),
            ("log.segment.bytes", I(log.SegmentBytes), ConfigType.Int),
            ("log.roll.ms", I(log.SegmentMs), ConfigType.Long),
            ("log.retention.check.interval.ms", I(options.RetentionCheckIntervalMs), ConfigType.Long),
            ("log.flush.interval.messages", I(log.FlushMessages), ConfigType.Long),
            ("log.flush.interval.ms", I(log.FlushMs), ConfigType.Long),
            ("log.cleanup.policy", TopicConfigs.PolicyText(log.CleanupPolicy), ConfigType.List),
            ("zookeeper.connect", options.ZooKeeperConnect, ConfigType.String),
            ("zookeeper.connection.timeout.ms", I(options.ZooKeeperConnectionTimeoutMs), ConfigType.Int),
            ("zookeeper.session.timeout.ms", I(options.ZooKeeperSessionTimeoutMs), ConfigType.Int),
            ("offsets.topic.replication.factor", I(options.OffsetsTopicReplicationFactor), ConfigType.Short),
            ("offsets.topic.num.partitions", I(options.OffsetsTopicNumPartitions), ConfigType.Int),
            ("group.initial.rebalance.delay.ms", I(options.GroupInitialRebalanceDelayMs), ConfigType.Int),
            ("transaction.state.log.replication.factor", I(options.TransactionStateLogReplicationFactor), ConfigType.Short),
            ("transaction.state.log.min.isr", I(options.TransactionStateLogMinIsr), ConfigType.Int),
            ("transaction.state.log.num.partitions", I(options.TransactionStateLogNumPartitions), ConfigType.Int),
        };
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value, type) in effective)
        {
            seen.Add(key);
            bool readOnly = !DynamicBrokerConfig.IsDynamic(key);
            if (dynamic.SourceOf(key) is { } dynamicSource)
                yield return new ConfigEntry(key, value, dynamicSource, type, readOnly);
            else
                yield return new ConfigEntry(key, value, options.Properties.ContainsKey(key) ? ConfigSource.StaticBroker : ConfigSource.Default, type, readOnly);
        }
        foreach (var key in dynamic.PerBroker.Keys.Concat(dynamic.ClusterDefaults.Keys).Order(StringComparer.Ordinal))
            if (seen.Add(key)) yield return new ConfigEntry(key, dynamic.ValueOf(key), dynamic.SourceOf(key)!.Value, ConfigType.String);
        foreach (var (key, value) in options.Properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            if (seen.Add(key)) yield return new ConfigEntry(key, value, ConfigSource.StaticBroker, ConfigType.String, !DynamicBrokerConfig.IsDynamic(key));
    }
}
