using Microsoft.Extensions.Logging;
using Quill.Broker.Log;

namespace Quill.Broker.Partitions;

/// <summary>
/// The partitions this broker leads (Kafka's ReplicaManager, without followers yet): one
/// <see cref="LogManager"/> per log dir, new partitions placed in the dir holding the fewest, and the map from
/// topic-partition to <see cref="Partition"/> that produce and fetch look up. Thread-safe; lookups take no lock.
/// </summary>
public sealed class ReplicaManager : IDisposable
{
    private readonly List<LogManager> _logManagers = [];
    private readonly object _lock = new();
    private readonly ILogger _log;
    private volatile Dictionary<(string Topic, int Partition), Partition> _partitions = [];

    public ReplicaManager(IReadOnlyList<string> logDirs, LogConfig defaults, Func<string, LogConfig> topicConfig,
        TimeProvider time, ILogger log)
    {
        _log = log;
        try
        {
            foreach (string dir in logDirs) _logManagers.Add(new LogManager(dir, defaults, time, topicConfig, log));
        }
        catch
        {
            foreach (var manager in _logManagers) manager.Dispose();
            throw;
        }
    }

    /// <summary>Every log found on disk at start or created since, whether or not it is served.</summary>
    public IEnumerable<PartitionLog> AllLogs => _logManagers.SelectMany(m => m.Logs);

    public IReadOnlyCollection<Partition> Partitions => _partitions.Values;

    /// <summary>Given to every partition's log as it is opened: told how long each flush took (ms).</summary>
    public Action<double>? LogFlushed { get; set; }

    public Partition? Get(string topic, int partition) => _partitions.GetValueOrDefault((topic, partition));

    /// <summary>Starts serving a partition: opens (or creates) its log and records which topic id it belongs to.</summary>
    public Partition Open(string topic, int index, Guid topicId, int leaderEpoch, LogConfig config)
    {
        lock (_lock)
        {
            if (_partitions.TryGetValue((topic, index), out var existing))
            {
                existing.LeaderEpoch = leaderEpoch;
                return existing;
            }
            var log = FindLog(topic, index) ?? LeastLoaded().GetOrCreate(topic, index, config);
            log.UpdateConfig(config);
            log.Flushed = LogFlushed;
            PartitionMetadataFile.Write(log.Dir, topicId);
            var partition = new Partition(topic, index, topicId, log, leaderEpoch);
            _partitions = new Dictionary<(string, int), Partition>(_partitions) { [(topic, index)] = partition };
            return partition;
        }
    }

    private PartitionLog? FindLog(string topic, int index)
    {
        foreach (var manager in _logManagers)
            if (manager.Get(topic, index) is { } log) return log;
        return null;
    }

    private LogManager LeastLoaded() => _logManagers.MinBy(m => m.Logs.Count)!;

    /// <summary>
    /// Stops serving a partition this broker no longer leads: produce and fetch answer NOT_LEADER_OR_FOLLOWER, long
    /// polls waiting on it wake up. Its log stays open on disk and is served again by <see cref="Open"/>.
    /// </summary>
    public void StopServing(string topic, int index)
    {
        Partition? removed;
        lock (_lock)
        {
            if (!_partitions.TryGetValue((topic, index), out removed)) return;
            var copy = new Dictionary<(string, int), Partition>(_partitions);
            copy.Remove((topic, index));
            _partitions = copy;
        }
        removed.NotifyAppended();
    }

    /// <summary>Stops serving and deletes a partition's log (topic deletion, or a stray log of an older topic).</summary>
    public void Delete(string topic, int index)
    {
        Partition? removed;
        lock (_lock)
        {
            if (_partitions.TryGetValue((topic, index), out removed))
            {
                var copy = new Dictionary<(string, int), Partition>(_partitions);
                copy.Remove((topic, index));
                _partitions = copy;
            }
            foreach (var manager in _logManagers)
                if (manager.Delete(topic, index)) _log.LogInformation("Deleted the log of {Topic}-{Partition}", topic, index);
        }
        removed?.NotifyAppended();
    }

    public void UpdateConfig(string topic, LogConfig config)
    {
        foreach (var partition in _partitions.Values)
            if (partition.Topic == topic) partition.Log.UpdateConfig(config);
    }

    /// <summary>Retention, producer expiry and checkpoints (log.retention.check.interval.ms).</summary>
    public void RunMaintenance() => ForEachDir("Log maintenance", m => m.RunMaintenance());

    /// <summary>Compaction of the compacted logs (the log cleaner, every log.cleaner.backoff.ms).</summary>
    public void CleanLogs() => ForEachDir("Log compaction", m => m.CleanLogs());

    private void ForEachDir(string what, Action<LogManager> work)
    {
        foreach (var manager in _logManagers)
        {
            try
            {
                work(manager);
            }
            catch (Exception e) when (e is IOException or LogException or ObjectDisposedException)
            {
                _log.LogError(e, "{What} in {Dir} failed", what, manager.LogDir);
            }
        }
    }

    /// <summary>fsyncs the logs whose flush.ms has passed.</summary>
    public void FlushDue()
    {
        foreach (var partition in _partitions.Values)
        {
            try
            {
                partition.Log.FlushIfDue();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _log.LogError(e, "Flushing {Partition} failed", partition);
            }
        }
    }

    public void Checkpoint()
    {
        foreach (var manager in _logManagers) manager.Checkpoint();
    }

    public void Dispose()
    {
        foreach (var partition in _partitions.Values) partition.NotifyAppended();
        foreach (var manager in _logManagers) manager.Dispose();
    }
}
