using System.Globalization;

namespace Quill.Broker.Log;

/// <summary>
/// <see cref="LogConfig"/> to and from Kafka's topic config names (segment.bytes, retention.ms, cleanup.policy,
/// ...), as CreateTopics, AlterConfigs and DescribeConfigs carry them. Unknown names are left for the caller.
/// </summary>
public static class LogConfigProperties
{
    public static readonly IReadOnlyList<string> Names =
    [
        "segment.bytes", "segment.ms", "segment.index.bytes", "index.interval.bytes", "retention.ms", "retention.bytes",
        "max.message.bytes", "flush.messages", "flush.ms", "cleanup.policy", "delete.retention.ms",
        "message.timestamp.type", "file.delete.delay.ms",
    ];

    /// <summary>Applies the known properties over <paramref name="baseConfig"/>; ArgumentException names a bad value.</summary>
    public static LogConfig Apply(LogConfig baseConfig, IEnumerable<KeyValuePair<string, string?>> properties)
    {
        var c = baseConfig;
        foreach (var (name, value) in properties)
        {
            if (value is null) continue;
            c = name switch
            {
                "segment.bytes" => c with { SegmentBytes = Int(name, value) },
                "segment.ms" => c with { SegmentMs = Long(name, value) },
                "segment.index.bytes" => c with { SegmentIndexBytes = Int(name, value) },
                "index.interval.bytes" => c with { IndexIntervalBytes = Int(name, value) },
                "retention.ms" => c with { RetentionMs = Long(name, value) },
                "retention.bytes" => c with { RetentionBytes = Long(name, value) },
                "max.message.bytes" => c with { MaxMessageBytes = Int(name, value) },
                "flush.messages" => c with { FlushMessages = Long(name, value) },
                "flush.ms" => c with { FlushMs = Long(name, value) },
                "delete.retention.ms" => c with { DeleteRetentionMs = Long(name, value) },
                "file.delete.delay.ms" => c with { FileDeleteDelayMs = Long(name, value) },
                "cleanup.policy" => c with { CleanupPolicy = Policy(value) },
                "message.timestamp.type" => c with { LogAppendTime = TimestampType(value) },
                _ => c,
            };
        }
        return c.Validate();
    }

    public static Dictionary<string, string> ToProperties(LogConfig c) => new()
    {
        ["segment.bytes"] = Str(c.SegmentBytes),
        ["segment.ms"] = Str(c.SegmentMs),
        ["segment.index.bytes"] = Str(c.SegmentIndexBytes),
        ["index.interval.bytes"] = Str(c.IndexIntervalBytes),
        ["retention.ms"] = Str(c.RetentionMs),
        ["retention.bytes"] = Str(c.RetentionBytes),
        ["max.message.bytes"] = Str(c.MaxMessageBytes),
        ["flush.messages"] = Str(c.FlushMessages),
        ["flush.ms"] = Str(c.FlushMs),
        ["cleanup.policy"] = string.Join(',', new[] { (CleanupPolicy.Delete, "delete"), (CleanupPolicy.Compact, "compact") }
            .Where(p => c.CleanupPolicy.HasFlag(p.Item1)).Select(p => p.Item2)),
        ["delete.retention.ms"] = Str(c.DeleteRetentionMs),
        ["message.timestamp.type"] = c.LogAppendTime ? "LogAppendTime" : "CreateTime",
        ["file.delete.delay.ms"] = Str(c.FileDeleteDelayMs),
    };

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static int Int(string name, string value) =>
        int.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
            : throw new ArgumentException($"{name}: '{value}' is not an int");

    private static long Long(string name, string value) =>
        long.TryParse(value.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v
            : throw new ArgumentException($"{name}: '{value}' is not a long");

    private static CleanupPolicy Policy(string value)
    {
        CleanupPolicy policy = 0;
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            policy |= part.ToLowerInvariant() switch
            {
                "delete" => CleanupPolicy.Delete,
                "compact" => CleanupPolicy.Compact,
                _ => throw new ArgumentException($"cleanup.policy: '{part}' is neither delete nor compact"),
            };
        return policy == 0 ? throw new ArgumentException("cleanup.policy is empty") : policy;
    }

    private static bool TimestampType(string value) => value.Trim() switch
    {
        "LogAppendTime" => true,
        "CreateTime" => false,
        _ => throw new ArgumentException($"message.timestamp.type: '{value}' is neither CreateTime nor LogAppendTime"),
    };
}
