using System.Globalization;
using Quill.Broker.Log;

namespace Quill.Broker.Config;

/// <summary>DescribeConfigs' config types (Kafka's ConfigEntry.ConfigType).</summary>
public enum ConfigType : sbyte { Unknown = 0, Boolean = 1, String = 2, Int = 3, Short = 4, Long = 5, Double = 6, List = 7, Class = 8, Password = 9 }

/// <summary>DescribeConfigs' config sources (Kafka's ConfigEntry.ConfigSource).</summary>
public enum ConfigSource : sbyte { Unknown = 0, DynamicTopic = 1, DynamicBroker = 2, DynamicDefaultBroker = 3, StaticBroker = 4, Default = 5 }

/// <summary>One topic-level config: its name, type, the broker key that sets its default, and how it shapes the log.</summary>
public sealed record TopicConfigDef(
    string Name,
    ConfigType Type,
    string? BrokerKey,
    Func<BrokerOptions, string> Default,
    Func<string, string?> Check,
    Func<LogConfig, string, LogConfig>? Apply = null);

/// <summary>
/// The topic configs Kafka defines (the ones a Kafka user sets with --config k=v): validation, defaults taken from
/// the broker's log.* settings, and their effect on <see cref="LogConfig"/>. Configs that only matter for replication
/// or tiered storage are accepted and kept in Keeper but change nothing on a single broker.
/// </summary>
public static class TopicConfigs
{
    public static readonly IReadOnlyList<TopicConfigDef> All =
    [
        new("cleanup.policy", ConfigType.List, "log.cleanup.policy", o => PolicyText(o.LogDefaults.CleanupPolicy),
            v => Try(() => ParseCleanupPolicy(v)), (c, v) => c with { CleanupPolicy = ParseCleanupPolicy(v) }),
        new("compression.type", ConfigType.String, "compression.type", _ => "producer",
            v => v is "producer" or "uncompressed" or "gzip" or "snappy" or "lz4" or "zstd" ? null : $"'{v}' is not one of producer, uncompressed, gzip, snappy, lz4, zstd",
            (c, v) => c with { CompressionType = v }),
        new("delete.retention.ms", ConfigType.Long, "log.cleaner.delete.retention.ms", o => L(o.LogDefaults.DeleteRetentionMs),
            v => Long(v, 0), (c, v) => c with { DeleteRetentionMs = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("file.delete.delay.ms", ConfigType.Long, "log.segment.delete.delay.ms", o => L(o.LogDefaults.FileDeleteDelayMs),
            v => Long(v, 0), (c, v) => c with { FileDeleteDelayMs = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("flush.messages", ConfigType.Long, "log.flush.interval.messages", o => L(o.LogDefaults.FlushMessages),
            v => Long(v, 1), (c, v) => c with { FlushMessages = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("flush.ms", ConfigType.Long, "log.flush.interval.ms", o => L(o.LogDefaults.FlushMs),
            v => Long(v, 0), (c, v) => c with { FlushMs = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("index.interval.bytes", ConfigType.Int, "log.index.interval.bytes", o => L(o.LogDefaults.IndexIntervalBytes),
            v => Int(v, 0), (c, v) => c with { IndexIntervalBytes = int.Parse(v, CultureInfo.InvariantCulture) }),
        new("max.message.bytes", ConfigType.Int, "message.max.bytes", o => L(o.LogDefaults.MaxMessageBytes),
            v => Int(v, 0), (c, v) => c with { MaxMessageBytes = int.Parse(v, CultureInfo.InvariantCulture) }),
        new("message.timestamp.type", ConfigType.String, "log.message.timestamp.type", o => o.LogDefaults.LogAppendTime ? "LogAppendTime" : "CreateTime",
            v => Try(() => ParseTimestampType(v)), (c, v) => c with { LogAppendTime = ParseTimestampType(v) }),
        new("min.insync.replicas", ConfigType.Int, "min.insync.replicas", o => L(o.LogDefaults.MinInSyncReplicas),
            v => Int(v, 1), (c, v) => c with { MinInSyncReplicas = int.Parse(v, CultureInfo.InvariantCulture) }),
        new("retention.bytes", ConfigType.Long, "log.retention.bytes", o => L(o.LogDefaults.RetentionBytes),
            v => Long(v, long.MinValue), (c, v) => c with { RetentionBytes = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("retention.ms", ConfigType.Long, "log.retention.ms", o => L(o.LogDefaults.RetentionMs),
            v => Long(v, -1), (c, v) => c with { RetentionMs = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("segment.bytes", ConfigType.Int, "log.segment.bytes", o => L(o.LogDefaults.SegmentBytes),
            v => Int(v, 14), (c, v) => c with { SegmentBytes = int.Parse(v, CultureInfo.InvariantCulture) }),
        new("segment.index.bytes", ConfigType.Int, "log.index.size.max.bytes", o => L(o.LogDefaults.SegmentIndexBytes),
            v => Int(v, 8), (c, v) => c with { SegmentIndexBytes = int.Parse(v, CultureInfo.InvariantCulture) }),
        new("segment.ms", ConfigType.Long, "log.roll.ms", o => L(o.LogDefaults.SegmentMs),
            v => Long(v, 1), (c, v) => c with { SegmentMs = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("segment.jitter.ms", ConfigType.Long, "log.roll.jitter.ms", _ => "0", v => Long(v, 0)),
        new("producer.id.expiration.ms", ConfigType.Long, "producer.id.expiration.ms", o => L(o.LogDefaults.ProducerIdExpirationMs),
            v => Long(v, 1), (c, v) => c with { ProducerIdExpirationMs = long.Parse(v, CultureInfo.InvariantCulture) }),
        new("unclean.leader.election.enable", ConfigType.Boolean, "unclean.leader.election.enable", o => o.UncleanLeaderElectionEnable ? "true" : "false", Bool),
        new("min.cleanable.dirty.ratio", ConfigType.Double, "log.cleaner.min.cleanable.ratio", _ => "0.5",
            v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d is >= 0 and <= 1 ? null : $"'{v}' is not a number in [0, 1]"),
        new("min.compaction.lag.ms", ConfigType.Long, "log.cleaner.min.compaction.lag.ms", _ => "0", v => Long(v, 0)),
        new("max.compaction.lag.ms", ConfigType.Long, "log.cleaner.max.compaction.lag.ms", _ => L(long.MaxValue), v => Long(v, 1)),
        new("message.timestamp.difference.max.ms", ConfigType.Long, "log.message.timestamp.difference.max.ms", _ => L(long.MaxValue), v => Long(v, 0)),
        new("message.timestamp.before.max.ms", ConfigType.Long, "log.message.timestamp.before.max.ms", _ => L(long.MaxValue), v => Long(v, 0)),
        new("message.timestamp.after.max.ms", ConfigType.Long, "log.message.timestamp.after.max.ms", _ => L(long.MaxValue), v => Long(v, 0)),
        new("preallocate", ConfigType.Boolean, "log.preallocate", _ => "false", Bool),
        new("message.downconversion.enable", ConfigType.Boolean, "log.message.downconversion.enable", _ => "true", Bool,
            (c, v) => c with { DownConversionEnable = bool.Parse(v) }),
        // Deprecated since Kafka 3.0, which ignores it (every log is written in the v2 format) but still takes,
        // keeps and describes it, so tools and old scripts that set it keep working.
        new("message.format.version", ConfigType.String, "log.message.format.version",
            o => o.Properties.GetValueOrDefault("log.message.format.version")?.Trim() ?? DefaultMessageFormatVersion, CheckKafkaVersion),
        // Tiered storage (Kafka 3.6+): there is none here, so, as Kafka with remote.log.storage.system.enable=false,
        // a topic may not turn it on; the other keys are taken and kept.
        new("remote.storage.enable", ConfigType.Boolean, null, _ => "false",
            v => v == "false" ? null : v == "true" ? "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage." : Bool(v)),
        new("local.retention.ms", ConfigType.Long, "log.local.retention.ms", _ => "-2", v => Long(v, -2)),
        new("local.retention.bytes", ConfigType.Long, "log.local.retention.bytes", _ => "-2", v => Long(v, -2)),
        new("remote.log.copy.disable", ConfigType.Boolean, null, _ => "false", Bool),
        new("remote.log.delete.on.disable", ConfigType.Boolean, null, _ => "false", Bool),
        // Compression levels (Kafka 3.8+, KIP-390): batches are stored as produced, so they change nothing here.
        new("compression.gzip.level", ConfigType.Int, "compression.gzip.level", _ => "-1",
            v => int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int l) && (l == -1 || l is >= 1 and <= 9) ? null : $"'{v}' is not -1 or in [1, 9]"),
        new("compression.lz4.level", ConfigType.Int, "compression.lz4.level", _ => "9",
            v => int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int l) && l is >= 1 and <= 17 ? null : $"'{v}' is not in [1, 17]"),
        new("compression.zstd.level", ConfigType.Int, "compression.zstd.level", _ => "3",
            v => int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int l) && l is >= -131072 and <= 22 ? null : $"'{v}' is not in [-131072, 22]"),
        new("follower.replication.throttled.replicas", ConfigType.List, null, _ => "", _ => null),
        new("leader.replication.throttled.replicas", ConfigType.List, null, _ => "", _ => null),
    ];

    /// <summary>Kafka 3.x's default for message.format.version: the 3.0 format, which is v2.</summary>
    public const string DefaultMessageFormatVersion = "3.0-IV1";

    /// <summary>Kafka releases up to 3.x, as version strings (message.format.version, inter.broker.protocol.version) name them.</summary>
    private static readonly System.Text.RegularExpressions.Regex KafkaVersion = new(
        @"^(0\.8\.[0-2]|0\.9\.0|0\.10\.[0-2]|0\.11\.0|1\.[01]|2\.[0-8]|3\.[0-9])(\.[0-9]+)*(-IV[0-9]+)?$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>
    /// Checks a Kafka version string as Kafka 3.x reads one: a release (0.8.0 to 3.9) with optional further numbers
    /// (2.8.1, 0.10.0.1) and an optional internal version (3.0-IV1). Null if valid.
    /// </summary>
    public static string? CheckKafkaVersion(string v) =>
        KafkaVersion.IsMatch(v) ? null : $"Version `{v}` is not a valid version";

    private static readonly Dictionary<string, TopicConfigDef> ByName = All.ToDictionary(d => d.Name, StringComparer.Ordinal);

    public static TopicConfigDef? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Why a topic config is refused (unknown name or bad value), or null if it is fine.</summary>
    public static string? Validate(string name, string? value)
    {
        if (Find(name) is not { } def) return $"Unknown topic config name: {name}";
        if (value is null) return $"Null value not supported for topic configs: {name}";
        return def.Check(value.Trim()) is { } problem ? $"Invalid value {value} for configuration {name}: {problem}" : null;
    }

    /// <summary>The log settings for a topic: the broker's defaults with the topic's overrides applied.</summary>
    public static LogConfig ToLogConfig(LogConfig defaults, IReadOnlyDictionary<string, string> overrides)
    {
        var config = defaults;
        foreach (var (name, value) in overrides)
            if (Find(name) is { Apply: { } apply } && Validate(name, value) is null) config = apply(config, value.Trim());
        return config;
    }

    public static CleanupPolicy ParseCleanupPolicy(string text)
    {
        CleanupPolicy policy = 0;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            policy |= part switch
            {
                "delete" => CleanupPolicy.Delete,
                "compact" => CleanupPolicy.Compact,
                _ => throw new ArgumentException($"'{part}' is not a cleanup policy (delete, compact)"),
            };
        }
        if (policy == 0) throw new ArgumentException("no cleanup policy given (delete, compact)");
        return policy;
    }

    public static string PolicyText(CleanupPolicy policy) => policy switch
    {
        CleanupPolicy.Compact => "compact",
        CleanupPolicy.Compact | CleanupPolicy.Delete => "compact,delete",
        _ => "delete",
    };

    /// <summary>True for LogAppendTime, false for CreateTime.</summary>
    public static bool ParseTimestampType(string text) => text switch
    {
        "CreateTime" => false,
        "LogAppendTime" => true,
        _ => throw new ArgumentException($"'{text}' is not CreateTime or LogAppendTime"),
    };

    private static string L(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string? Try(Action parse)
    {
        try { parse(); return null; }
        catch (ArgumentException e) { return e.Message; }
    }

    private static string? Long(string v, long min) =>
        long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) && n >= min ? null
            : $"'{v}' is not a long{(min == long.MinValue ? "" : $" of at least {min}")}";

    private static string? Int(string v, int min) =>
        int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) && n >= min ? null
            : $"'{v}' is not an int of at least {min}";

    private static string? Bool(string v) => v is "true" or "false" ? null : $"'{v}' is not true or false";
}
