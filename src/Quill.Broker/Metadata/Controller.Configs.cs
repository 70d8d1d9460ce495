using System.Globalization;
using Microsoft.Extensions.Logging;
using Quill.Broker.Config;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Metadata;

public sealed partial class Controller
{
    /// <summary>Kafka deletes change notifications 15 minutes after they were made; every broker has read them by then.</summary>
    private static readonly TimeSpan ConfigChangeExpiry = TimeSpan.FromMinutes(15);

    /// <summary>The sequence number of the last /config/changes notification applied.</summary>
    private long _lastConfigChange = -1;

    /// <summary>Replaces a topic's config overrides (already validated by the caller) and applies them to its logs.</summary>
    public async Task<AdminResult> SetTopicConfigAsync(string name, IReadOnlyDictionary<string, string> configs, CancellationToken ct = default)
    {
        return await _events.RunAsync<AdminResult>(async () =>
        {
            if (_cache.GetTopic(name) is not { } topic) return new(KafkaError.UnknownTopicOrPartition, $"Topic {name} does not exist.");
            await _zk.SetTopicConfigAsync(name, configs, ct);
            ApplyTopicConfigOnLoop(topic, configs);
            return AdminResult.Ok;
        });
    }

    /// <summary>
    /// Replaces the dynamic configs of this broker (<paramref name="entity"/> = its id) or of every broker
    /// (<see cref="ZkPaths.DefaultBrokerEntity"/>), already validated by the caller, and applies them.
    /// </summary>
    public async Task<AdminResult> SetBrokerConfigAsync(string entity, IReadOnlyDictionary<string, string> configs, CancellationToken ct = default)
    {
        return await _events.RunAsync<AdminResult>(async () =>
        {
            await _zk.SetBrokerConfigAsync(entity, configs, ct);
            await ReloadBrokerConfigsOnLoopAsync(ct);
            return AdminResult.Ok;
        });
    }

    private void ApplyTopicConfigOnLoop(TopicInfo topic, IReadOnlyDictionary<string, string> configs)
    {
        var updated = topic with { Configs = new Dictionary<string, string>(configs, StringComparer.Ordinal) };
        _cache.Put(updated);
        _replicas.UpdateConfig(topic.Name, TopicConfigs.ToLogConfig(_options.LogDefaults, updated.Configs));
    }

    /// <summary>Reads both dynamic broker config entities and applies the result to every log that follows the defaults.</summary>
    private async Task ReloadBrokerConfigsOnLoopAsync(CancellationToken ct)
    {
        var cluster = await _zk.ReadBrokerConfigAsync(ZkPaths.DefaultBrokerEntity, ct);
        var own = await _zk.ReadBrokerConfigAsync(BrokerId.ToString(CultureInfo.InvariantCulture), ct);
        _dynamicConfig.Update(cluster, own);
        foreach (var topic in _cache.Topics)
            _replicas.UpdateConfig(topic.Name, TopicConfigs.ToLogConfig(_options.LogDefaults, topic.Configs));
    }

    /// <summary>
    /// Starts following /config/changes (Kafka's config change notifications): notifications already there were made
    /// before the configs were read, so only later ones are applied.
    /// </summary>
    private async Task WatchConfigChangesOnLoopAsync(CancellationToken ct)
    {
        var names = await _zk.GetConfigChangesAsync(OnConfigChanged, ct);
        _lastConfigChange = Math.Max(_lastConfigChange, names.Select(SequenceOf).DefaultIfEmpty(-1).Max());
    }

    private void OnConfigChanged(Quill.Keeper.Client.WatchedEvent e) => RunWatchWork(e, async ct =>
    {
        var names = (await _zk.GetConfigChangesAsync(OnConfigChanged, ct)).OrderBy(SequenceOf).ToList();
        foreach (string name in names)
        {
            long sequence = SequenceOf(name);
            if (sequence <= _lastConfigChange)
            {
                await PurgeIfOldAsync(name, ct);
                continue;
            }
            if (await _zk.ReadConfigChangeAsync(name, ct) is { } change) await ApplyConfigChangeOnLoopAsync(name, change.Data, ct);
            _lastConfigChange = sequence;
        }
    });

    private async Task ApplyConfigChangeOnLoopAsync(string name, byte[] data, CancellationToken ct)
    {
        (string Type, string Name)? entity;
        try
        {
            entity = ZkData.ParseConfigChange(data);
        }
        catch (InvalidDataException e)
        {
            _log.LogWarning("Ignoring config change notification {Name}: {Reason}", name, LogSafe.Text(e.Message));
            return;
        }
        switch (entity)
        {
            case ("topics", var topic):
                if (_cache.GetTopic(topic) is not { } info) return;
                var configs = await _zk.ReadTopicConfigAsync(topic, ct);
                if (SameConfigs(info.Configs, configs)) return;
                ApplyTopicConfigOnLoop(info, configs);
                _log.LogInformation("Config of topic {Topic} changed: {Configs}", topic, Describe(configs));
                break;
            case ("brokers", var broker) when broker == ZkPaths.DefaultBrokerEntity || broker == BrokerId.ToString(CultureInfo.InvariantCulture):
                await ReloadBrokerConfigsOnLoopAsync(ct);
                _log.LogInformation("Dynamic broker configs changed: cluster-wide {Cluster}; broker {Id} {Own}",
                    Describe(_dynamicConfig.ClusterDefaults), BrokerId, Describe(_dynamicConfig.PerBroker));
                break;
            case null:
                _log.LogWarning("Ignoring config change notification {Name}: it names no entity", name);
                break;
            default:
                // Client quotas, users, other brokers: nothing this broker applies.
                break;
        }
    }

    private async Task PurgeIfOldAsync(string name, CancellationToken ct)
    {
        if (await _zk.ReadConfigChangeAsync(name, ct) is not { } change) return;
        var made = DateTimeOffset.FromUnixTimeMilliseconds(change.Stat.Ctime);
        if (_time.GetUtcNow() - made > ConfigChangeExpiry) await _zk.DeleteConfigChangeAsync(name, ct);
    }

    private static long SequenceOf(string name)
    {
        string prefix = ZkPaths.ConfigChangePrefix[(ZkPaths.ConfigChanges.Length + 1)..];
        return name.StartsWith(prefix, StringComparison.Ordinal)
               && long.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : -1;
    }

    private static bool SameConfigs(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>Configs for a log line; keys and values came from clients (AlterConfigs), so they are escaped.</summary>
    private static string Describe(IReadOnlyDictionary<string, string> configs) =>
        LogSafe.Text(configs.Count == 0 ? "{}" : "{" + string.Join(", ", configs.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")) + "}")!;
}
