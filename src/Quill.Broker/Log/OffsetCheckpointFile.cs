using System.Globalization;
using System.Text;

namespace Quill.Broker.Log;

/// <summary>
/// Kafka's per-log-dir offset checkpoint files (recovery-point-offset-checkpoint, log-start-offset-checkpoint):
/// a version line (0), a count line, then one "topic partition offset" line per partition. Replaced atomically.
/// </summary>
public static class OffsetCheckpointFile
{
    public static void Write(string path, IEnumerable<(string Topic, int Partition, long Offset)> entries)
    {
        var list = entries.ToList();
        var text = new StringBuilder();
        text.Append("0\n").Append(list.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (topic, partition, offset) in list)
            text.Append(CultureInfo.InvariantCulture, $"{topic} {partition} {offset}\n");
        AtomicFile.Write(path, Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The entries; empty if the file does not exist. Throws <see cref="InvalidDataException"/> if malformed.</summary>
    public static Dictionary<(string Topic, int Partition), long> Read(string path)
    {
        var result = new Dictionary<(string, int), long>();
        if (!File.Exists(path)) return result;
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2 || lines[0].Trim() != "0")
            throw new InvalidDataException($"{path}: expected version 0, found '{(lines.Length > 0 ? lines[0] : "")}'");
        if (!int.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || lines.Length < 2 + count)
            throw new InvalidDataException($"{path}: bad entry count '{lines[1]}'");
        for (int i = 0; i < count; i++)
        {
            var parts = lines[2 + i].Split(' ');
            if (parts.Length != 3
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int partition)
                || !long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long offset))
                throw new InvalidDataException($"{path}: bad line '{lines[2 + i]}'");
            result[(parts[0], partition)] = offset;
        }
        return result;
    }
}
