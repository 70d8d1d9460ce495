using System.Globalization;

namespace Quill.Broker.Log;

/// <summary>
/// Kafka's file names: a partition directory <c>topic-partition</c>, and per segment
/// <c>{baseOffset:D20}.log / .index / .timeindex / .txnindex</c>; producer state snapshots are <c>{offset:D20}.snapshot</c>.
/// </summary>
public static class LogFileNames
{
    public const string LogSuffix = ".log";
    public const string IndexSuffix = ".index";
    public const string TimeIndexSuffix = ".timeindex";
    public const string TxnIndexSuffix = ".txnindex";
    public const string SnapshotSuffix = ".snapshot";
    /// <summary>A file being written by the cleaner; discarded if found at startup.</summary>
    public const string CleanedSuffix = ".cleaned";
    public const string RecoveryPointCheckpoint = "recovery-point-offset-checkpoint";
    public const string LogStartOffsetCheckpoint = "log-start-offset-checkpoint";
    /// <summary>Each partition's high watermark, as Kafka's replica manager checkpoints it.</summary>
    public const string ReplicationOffsetCheckpoint = "replication-offset-checkpoint";

    public static string OffsetName(long offset) => offset.ToString("D20", CultureInfo.InvariantCulture);

    public static string LogFile(string dir, long baseOffset) => Path.Combine(dir, OffsetName(baseOffset) + LogSuffix);
    public static string IndexFile(string dir, long baseOffset) => Path.Combine(dir, OffsetName(baseOffset) + IndexSuffix);
    public static string TimeIndexFile(string dir, long baseOffset) => Path.Combine(dir, OffsetName(baseOffset) + TimeIndexSuffix);
    public static string TxnIndexFile(string dir, long baseOffset) => Path.Combine(dir, OffsetName(baseOffset) + TxnIndexSuffix);
    public static string SnapshotFile(string dir, long offset) => Path.Combine(dir, OffsetName(offset) + SnapshotSuffix);

    public static string PartitionDirName(string topic, int partition) => $"{topic}-{partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>topic-N</c> (topics may contain dashes; the partition is after the last one).</summary>
    public static bool TryParsePartitionDir(string name, out string topic, out int partition)
    {
        int dash = name.LastIndexOf('-');
        topic = dash > 0 ? name[..dash] : "";
        partition = -1;
        return dash > 0 && int.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out partition);
    }

    /// <summary>The offset a file's name starts with, e.g. 42 for <c>00000000000000000042.log</c>.</summary>
    public static bool TryParseOffset(string path, string suffix, out long offset)
    {
        string name = Path.GetFileName(path);
        offset = -1;
        return name.EndsWith(suffix, StringComparison.Ordinal) && name.Length == 20 + suffix.Length
            && long.TryParse(name.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }
}
