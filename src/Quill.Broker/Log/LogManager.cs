using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

/// <summary>
/// The partition logs of one log dir (Kafka's LogManager): loads every <c>topic-N</c> directory at start, keeps
/// the recovery-point and log-start-offset checkpoint files, and runs periodic upkeep when called: retention, flush.ms
/// and producer id expiry (<see cref="RunMaintenance"/>), compaction (<see cref="CleanLogs"/>, the log cleaner, on its
/// own schedule so a long pass holds up no other upkeep). A <c>.lock</c> file keeps a
/// second broker out of the dir; a <c>.kafka_cleanshutdown</c> marker written on clean shutdown lets the next
/// start skip recovery. Thread-safe.
/// </summary>
public sealed class LogManager : IDisposable
{
    private const string CleanShutdownFile = ".kafka_cleanshutdown";
    private readonly Dictionary<(string, int), PartitionLog> _logs = [];
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly FileStream _dirLock;
    private bool _disposed;
    private readonly Dictionary<(string Topic, int Partition), long> _highWatermarks;

    public LogManager(string logDir, LogConfig defaultConfig, TimeProvider? time = null,
        Func<string, LogConfig>? topicConfig = null, ILogger? logger = null)
    {
        _log = logger ?? NullLogger.Instance;
        LogDir = Path.GetFullPath(logDir);
        DefaultConfig = defaultConfig.Validate();
        _time = time ?? TimeProvider.System;
        TopicConfig = topicConfig ?? (_ => DefaultConfig);
        Directory.CreateDirectory(LogDir);
        _dirLock = new FileStream(Path.Combine(LogDir, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);

        string marker = Path.Combine(LogDir, CleanShutdownFile);
        bool clean = File.Exists(marker);
        var recoveryPoints = ReadCheckpoint(LogFileNames.RecoveryPointCheckpoint, ref clean);
        var startOffsets = ReadCheckpoint(LogFileNames.LogStartOffsetCheckpoint, ref clean);
        bool ignored = true;
        _highWatermarks = ReadCheckpoint(LogFileNames.ReplicationOffsetCheckpoint, ref ignored);
        foreach (var dir in Directory.EnumerateDirectories(LogDir))
        {
            if (!LogFileNames.TryParsePartitionDir(Path.GetFileName(dir), out var topic, out int partition)) continue;
            var log = PartitionLog.Open(dir, topic, partition, TopicConfig(topic), _time,
                recoveryPoints.GetValueOrDefault((topic, partition)), startOffsets.GetValueOrDefault((topic, partition)), clean);
            _logs[(topic, partition)] = log;
        }
        File.Delete(marker); // from now on a crash is an unclean shutdown
        Checkpoint();
    }

    /// <summary>A damaged checkpoint is ignored: every log is then fully recovered, the slow but safe choice.</summary>
    private Dictionary<(string Topic, int Partition), long> ReadCheckpoint(string name, ref bool clean)
    {
        try
        {
            return OffsetCheckpointFile.Read(Path.Combine(LogDir, name));
        }
        catch (InvalidDataException)
        {
            clean = false;
            return [];
        }
    }

    public string LogDir { get; }
    public LogConfig DefaultConfig { get; }
    public Func<string, LogConfig> TopicConfig { get; }

    public IReadOnlyList<PartitionLog> Logs
    {
        get { lock (_lock) return [.. _logs.Values]; }
    }

    public PartitionLog? Get(string topic, int partition)
    {
        lock (_lock) return _logs.GetValueOrDefault((topic, partition));
    }

    public PartitionLog GetOrCreate(string topic, int partition, LogConfig? config = null)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_logs.TryGetValue((topic, partition), out var log)) return log;
            string dir = Path.Combine(LogDir, LogFileNames.PartitionDirName(topic, partition));
            log = PartitionLog.Open(dir, topic, partition, config ?? TopicConfig(topic), _time);
            DirectorySync.Flush(LogDir); // the new partition directory itself
            _logs[(topic, partition)] = log;
            return log;
        }
    }

    /// <summary>Closes a partition's log and deletes its directory (topic deletion).</summary>
    public bool Delete(string topic, int partition)
    {
        PartitionLog? log;
        lock (_lock)
        {
            if (!_logs.Remove((topic, partition), out log)) return false;
        }
        log.CloseAbruptly();
        Directory.Delete(log.Dir, recursive: true);
        Checkpoint();
        return true;
    }

    /// <summary>
    /// The high watermark checkpointed for a log when the broker started (replication-offset-checkpoint), 0 if none
    /// was: where a replicated partition's high watermark starts before its leader says more.
    /// </summary>
    public long CheckpointedHighWatermark(string topic, int partition) => _highWatermarks.GetValueOrDefault((topic, partition));

    /// <summary>Writes the checkpoint files (Kafka does this every log.flush.offset.checkpoint.interval.ms).</summary>
    public void Checkpoint()
    {
        lock (_lock)
        {
            var logs = _logs.Values.ToList();
            OffsetCheckpointFile.Write(Path.Combine(LogDir, LogFileNames.RecoveryPointCheckpoint),
                logs.Select(l => (l.Topic, l.Partition, l.RecoveryPoint)));
            OffsetCheckpointFile.Write(Path.Combine(LogDir, LogFileNames.LogStartOffsetCheckpoint),
                logs.Select(l => (l.Topic, l.Partition, l.LogStartOffset)));
            OffsetCheckpointFile.Write(Path.Combine(LogDir, LogFileNames.ReplicationOffsetCheckpoint),
                logs.Select(l => (l.Topic, l.Partition, l.HighWatermark)));
        }
    }

    /// <summary>One round of upkeep over every log: retention, flush.ms, producer expiry, checkpoints.</summary>
    public void RunMaintenance()
    {
        foreach (var log in Logs)
        {
            log.DeleteOldSegments();
            log.FlushIfDue();
            log.RemoveExpiredProducers();
            log.CloseRetiredSegments();
        }
        Checkpoint();
    }

    /// <summary>One pass of the log cleaner: compacts every compacted log that has something to clean.</summary>
    public void CleanLogs()
    {
        foreach (var log in Logs)
            if (!log.Uncleanable && LogCleaner.NeedsCleaning(log, _time)) Clean(log);
    }

    /// <summary>
    /// Compacts one log. A batch that does not decode (stored before produce checked every record) stops its log's
    /// compaction for good, as Kafka marks such a partition uncleanable; the other logs' upkeep carries on. The pass
    /// runs beside retention and topic deletion: a log closed, or a segment retired, under it ends this log's pass,
    /// and the next pass starts from what is left.
    /// </summary>
    private void Clean(PartitionLog log)
    {
        try
        {
            LogCleaner.Clean(log, _time);
        }
        catch (KafkaProtocolException e)
        {
            log.Uncleanable = true;
            _log.LogError("Compaction of {Topic}-{Partition} stopped: a stored batch does not decode ({Reason}); the partition is marked uncleanable",
                log.Topic, log.Partition, e.Message);
        }
        catch (ObjectDisposedException)
        {
            _log.LogDebug("Compaction of {Topic}-{Partition} ended early: the log or a segment was closed meanwhile", log.Topic, log.Partition);
        }
    }

    /// <summary>Clean shutdown: every log flushed and closed, checkpoints written, the clean-shutdown marker left.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var log in _logs.Values) log.Dispose();
        }
        Checkpoint();
        File.WriteAllBytes(Path.Combine(LogDir, CleanShutdownFile), []);
        _dirLock.Dispose();
    }
}
