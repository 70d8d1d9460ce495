using System.Globalization;
using Quill.Broker.Log;

namespace Quill.Broker.Config;

/// <summary>
/// Broker configs changed while the broker runs (Kafka's dynamic broker configs in ZooKeeper mode): the configs kept in
/// /config/brokers/&lt;default&gt; apply to every broker, those in /config/brokers/&lt;id&gt; to one, and both win
/// over server.properties (per-broker first). What takes effect here: the log.* defaults and message.max.bytes, which
/// become the settings of every topic that does not override them, at once. The thread-count keys are accepted and
/// kept, as Kafka accepts them, but change nothing (the broker sizes its own work). Every other key is static.
/// </summary>
public sealed class DynamicBrokerConfig
{
    /// <summary>Thread counts Kafka lets you change at runtime; accepted and stored for the tools that set them.</summary>
    private static readonly HashSet<string> ThreadKeys =
    [
        "num.io.threads", "num.network.threads", "num.replica.fetchers", "background.threads", "log.cleaner.threads",
        "num.recovery.threads.per.data.dir",
    ];

    private readonly BrokerOptions _options;
    private readonly LogConfig _staticLogDefaults;
    private volatile State _state = new(Empty(), Empty());

    private sealed record State(IReadOnlyDictionary<string, string> ClusterDefaults, IReadOnlyDictionary<string, string> PerBroker);

    /// <param name="options">The broker's settings; their <see cref="BrokerOptions.LogDefaults"/> as given are the static ones.</param>
    public DynamicBrokerConfig(BrokerOptions options)
    {
        _options = options;
        _staticLogDefaults = options.LogDefaults;
    }

    /// <summary>The configs set for every broker (/config/brokers/&lt;default&gt;).</summary>
    public IReadOnlyDictionary<string, string> ClusterDefaults => _state.ClusterDefaults;
    /// <summary>The configs set for this broker (/config/brokers/&lt;id&gt;).</summary>
    public IReadOnlyDictionary<string, string> PerBroker => _state.PerBroker;

    /// <summary>Whether a broker key can be changed at runtime.</summary>
    public static bool IsDynamic(string key) => ThreadKeys.Contains(key) || TopicDefFor(key) is not null;

    /// <summary>Why a dynamic broker config is refused (static key, bad value), or null if it is fine.</summary>
    public static string? Validate(string key, string? value)
    {
        if (!IsDynamic(key)) return $"Cannot update these configs dynamically: Set({key})";
        if (value is null) return $"Null value not supported for broker config {key}";
        if (ThreadKeys.Contains(key))
            return int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 ? null
                : $"Invalid value {value} for configuration {key}: '{value}' is not an int of at least 1";
        var def = TopicDefFor(key)!;
        return def.Check(value.Trim()) is { } problem ? $"Invalid value {value} for configuration {key}: {problem}" : null;
    }

    /// <summary>Takes new stored configs (either may be unchanged) and recomputes the broker's log defaults.</summary>
    public void Update(IReadOnlyDictionary<string, string> clusterDefaults, IReadOnlyDictionary<string, string> perBroker)
    {
        var state = new State(Copy(clusterDefaults), Copy(perBroker));
        var log = _staticLogDefaults;
        foreach (var layer in new[] { state.ClusterDefaults, state.PerBroker })
            foreach (var (key, value) in layer)
                if (TopicDefFor(key) is { Apply: { } apply } && Validate(key, value) is null) log = apply(log, value.Trim());
        _state = state;
        _options.LogDefaults = log;
    }

    /// <summary>Where a broker key's value comes from now, if it is set dynamically; null otherwise.</summary>
    public ConfigSource? SourceOf(string brokerKey)
    {
        var state = _state;
        if (state.PerBroker.ContainsKey(brokerKey)) return ConfigSource.DynamicBroker;
        if (state.ClusterDefaults.ContainsKey(brokerKey)) return ConfigSource.DynamicDefaultBroker;
        return null;
    }

    /// <summary>The dynamically set value of a key (per-broker first), or null.</summary>
    public string? ValueOf(string brokerKey)
    {
        var state = _state;
        return state.PerBroker.GetValueOrDefault(brokerKey) ?? state.ClusterDefaults.GetValueOrDefault(brokerKey);
    }

    private static TopicConfigDef? TopicDefFor(string brokerKey) =>
        TopicConfigs.All.FirstOrDefault(d => d.BrokerKey == brokerKey && d.Apply is not null);

    private static Dictionary<string, string> Empty() => new(StringComparer.Ordinal);

    private static Dictionary<string, string> Copy(IReadOnlyDictionary<string, string> source) =>
        new(source, StringComparer.Ordinal);
}
