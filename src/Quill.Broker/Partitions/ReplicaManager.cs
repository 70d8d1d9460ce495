using Microsoft.Extensions.Logging;
using Quill.Broker.Log;

namespace Quill.Broker.Partitions;

/// <summary>
/// The partitions this broker holds a replica of, leading or following (Kafka's ReplicaManager): one
/// <see cref="LogManager"/> per log dir, new partitions placed in the dir holding the fewest, and the map from
/// topic-partition to <see cref="Partition"/> that produce and fetch look up. Thread-safe; lookups take no lock.
/// </summary>
public sealed class ReplicaManager : IDisposable
{
    private readonly List<LogManager> _logManagers = [];
    private readonly object _lock = new();
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private volatile Dictionary<(string Topic, int Partition), Partition> _partitions = [];

    public ReplicaManager(IReadOnlyList<string> logDirs, LogConfig defaults, Func<string, LogConfig> topicConfig,
        TimeProvider time, ILogger log)
    {
        _log = log;
        _time = time;
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

    /// <summary>The partitions this broker leads.</summary>
    public IReadOnlyCollection<Partition> Partitions => _partitions.Values.Where(p => p.IsLeader).ToList();

    /// <summary>Every partition this broker holds a replica of, leading or following.</summary>
    public IReadOnlyCollection<Partition> Hosted => _partitions.Values;

    /// <summary>Given to every partition's log as it is opened: told how long each flush took (ms).</summary>
    public Action<double>? LogFlushed { get; set; }

    /// <summary>Given to every partition: raised when its leader wants the ISR changed (see <see cref="Partition.IsrChangeWanted"/>).</summary>
    public Action<Partition>? IsrChangeWanted { get; set; }

    /// <summary>
    /// Raised before a partition stops following its leader (it leads now, follows another leader or epoch, or is no
    /// longer held): the fetcher lets it go before its role changes, so it appends nothing after.
    /// </summary>
    public event Action<Partition>? FollowerStopping;

    /// <summary>Raised after a partition starts following a (live) leader, or a new leader epoch: its fetcher takes it.</summary>
    public event Action<Partition>? FollowerStarted;

    /// <summary>The partition if this broker leads it (what produce, fetch and the coordinators serve), else null.</summary>
    public Partition? Get(string topic, int partition) =>
        _partitions.GetValueOrDefault((topic, partition)) is { IsLeader: true } p ? p : null;

    /// <summary>The partition if this broker holds a replica of it, leading or following.</summary>
    public Partition? GetHosted(string topic, int partition) => _partitions.GetValueOrDefault((topic, partition));

    /// <summary>Starts serving a partition alone (one replica, no Keeper state): opens (or creates) its log.</summary>
    public Partition Open(string topic, int index, Guid topicId, int leaderEpoch, LogConfig config) =>
        MakeLeader(topic, index, topicId, -1, leaderEpoch, [], [], -1, config);

    /// <summary>
    /// Leads a partition: opens (or creates) its log and records which topic id it belongs to, and gives the
    /// partition its replicas and ISR (see <see cref="Partition.MakeLeader"/>).
    /// </summary>
    public Partition MakeLeader(string topic, int index, Guid topicId, int localBrokerId, int leaderEpoch, int[] replicas, int[] isr,
        int stateZkVersion, LogConfig config)
    {
        Partition partition;
        lock (_lock)
        {
            partition = GetOrCreateLocked(topic, index, topicId, leaderEpoch, config);
            if (!partition.IsLeader) FollowerStopping?.Invoke(partition);
            partition.MakeLeader(localBrokerId, leaderEpoch, replicas, isr, stateZkVersion, NowMs);
        }
        return partition;
    }

    /// <summary>
    /// Follows a partition's leader (<paramref name="leaderId"/>, -1 when none is live): opens (or creates) its log;
    /// the fetcher, told through <see cref="FollowerStarted"/>, truncates and fetches.
    /// </summary>
    public Partition MakeFollower(string topic, int index, Guid topicId, int localBrokerId, int leaderId, int leaderEpoch, int[] replicas,
        int[] isr, int stateZkVersion, LogConfig config)
    {
        Partition partition;
        bool changed;
        lock (_lock)
        {
            partition = GetOrCreateLocked(topic, index, topicId, leaderEpoch, config);
            changed = partition.IsLeader || partition.LeaderId != leaderId || partition.LeaderEpoch != leaderEpoch;
            if (changed) FollowerStopping?.Invoke(partition);
            partition.MakeFollower(localBrokerId, leaderId, leaderEpoch, replicas, isr, stateZkVersion);
        }
        if (changed && leaderId >= 0) FollowerStarted?.Invoke(partition);
        return partition;
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private Partition GetOrCreateLocked(string topic, int index, Guid topicId, int leaderEpoch, LogConfig config)
    {
        if (_partitions.TryGetValue((topic, index), out var existing)) return existing;
        var log = FindLog(topic, index) ?? LeastLoaded().GetOrCreate(topic, index, config);
        log.UpdateConfig(config);
        log.Flushed = LogFlushed;
        log.UseReplicatedHighWatermark(ManagerOf(log).CheckpointedHighWatermark(topic, index));
        PartitionMetadataFile.Write(log.Dir, topicId);
        var partition = new Partition(topic, index, topicId, log, leaderEpoch) { IsrChangeWanted = IsrChangeWanted };
        _partitions = new Dictionary<(string, int), Partition>(_partitions) { [(topic, index)] = partition };
        return partition;
    }

    private LogManager ManagerOf(PartitionLog log) => _logManagers.First(m => m.Get(log.Topic, log.Partition) == log);

    private PartitionLog? FindLog(string topic, int index)
    {
        foreach (var manager in _logManagers)
            if (manager.Get(topic, index) is { } log) return log;
        return null;
    }

    private LogManager LeastLoaded() => _logManagers.MinBy(m => m.Logs.Count)!;

    /// <summary>
    /// Stops holding a partition this broker is no longer a replica of: produce and fetch answer
    /// NOT_LEADER_OR_FOLLOWER, long polls waiting on it wake up. Its log stays open on disk and is served again by
    /// <see cref="MakeLeader"/> or <see cref="MakeFollower"/>.
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
        Retire(removed);
    }

    /// <summary>A partition no longer held here: acks=all produces waiting on it fail, its fetcher lets it go, fetches wake.</summary>
    private void Retire(Partition removed)
    {
        FollowerStopping?.Invoke(removed);
        removed.MakeFollower(removed.LocalBrokerId, -1, removed.LeaderEpoch, [], [], -1);
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
        if (removed is not null) Retire(removed);
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
