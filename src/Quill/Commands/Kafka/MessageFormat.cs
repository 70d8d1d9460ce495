using System.Text;
using Confluent.Kafka;

namespace Quill.Commands.Kafka;

/// <summary>Kafka's DefaultMessageFormatter: [CreateTime:ts] [Partition:p] [Offset:o] [key] value, separated by key.separator.</summary>
public sealed record MessageFormat(bool Key, bool Value, bool Timestamp, bool Partition, bool Offset, string Separator, string LineSeparator)
{
    public static MessageFormat From(IEnumerable<KeyValuePair<string, string>> properties)
    {
        var p = properties.ToDictionary(kv => kv.Key, kv => kv.Value);
        bool Flag(string name, bool fallback) => p.TryGetValue(name, out var v) ? v.Equals("true", StringComparison.OrdinalIgnoreCase) : fallback;
        return new MessageFormat(Flag("print.key", false), Flag("print.value", true), Flag("print.timestamp", false),
            Flag("print.partition", false), Flag("print.offset", false),
            Unescape(p.GetValueOrDefault("key.separator") ?? "\t"), Unescape(p.GetValueOrDefault("line.separator") ?? "\n"));
    }

    public void Write(TextWriter output, ConsumeResult<byte[]?, byte[]?> result)
    {
        bool first = true;
        void Field(string text)
        {
            if (!first) output.Write(Separator);
            output.Write(text);
            first = false;
        }
        if (Timestamp)
        {
            var ts = result.Message.Timestamp;
            Field(ts.Type switch
            {
                TimestampType.CreateTime => $"CreateTime:{ts.UnixTimestampMs}",
                TimestampType.LogAppendTime => $"LogAppendTime:{ts.UnixTimestampMs}",
                _ => "NO_TIMESTAMP",
            });
        }
        if (Partition) Field($"Partition:{result.Partition.Value}");
        if (Offset) Field($"Offset:{result.Offset.Value}");
        if (Key) Field(Text(result.Message.Key));
        if (Value) Field(Text(result.Message.Value));
        output.Write(LineSeparator);
    }

    private static string Text(byte[]? bytes) => bytes is null ? "null" : Encoding.UTF8.GetString(bytes);

    // Separators typed on a shell command line arrive as "\t" or "\n" literally.
    private static string Unescape(string s) => s.Replace("\\t", "\t").Replace("\\n", "\n").Replace("\\r", "\r");
}
