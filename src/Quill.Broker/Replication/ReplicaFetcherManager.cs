using Microsoft.Extensions.Logging;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;

namespace Quill.Broker.Replication;

/// <summary>
/// The fetchers of this broker's follower partitions (Kafka's ReplicaFetcherManager): one <see cref="ReplicaFetcher"/>
/// per leader broker, so one Fetch request carries every partition followed on that leader. Told by the
/// <see cref="ReplicaManager"/> when a partition starts or stops following.
/// </summary>
public sealed class ReplicaFetcherManager : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<int, ReplicaFetcher> _fetchers = [];
    private readonly ReplicaManager _replicas;
    private readonly MetadataCache _cache;
    private readonly BrokerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private bool _disposed;
    public Metrics.BrokerMetrics? Metrics { get; init; }

    public ReplicaFetcherManager(ReplicaManager replicas, MetadataCache cache, BrokerOptions options, TimeProvider time, ILogger log)
    {
        _replicas = replicas;
        _cache = cache;
        _options = options;
        _time = time;
        _log = log;
        replicas.FollowerStopping += Stop;
        replicas.FollowerStarted += Start;
    }

    private void Start(Partition partition)
    {
        lock (_lock)
        {
            if (_disposed || partition.IsLeader || partition.LeaderId < 0) return;
            if (!_fetchers.TryGetValue(partition.LeaderId, out var fetcher))
                _fetchers[partition.LeaderId] = fetcher = new ReplicaFetcher(partition.LeaderId, _cache, _options, _time, _log) { Metrics = Metrics };
            fetcher.Add(partition);
        }
        _log.LogInformation("{Partition}: following broker {Leader} (leader epoch {Epoch})", partition, partition.LeaderId, partition.LeaderEpoch);
    }

    private void Stop(Partition partition)
    {
        lock (_lock)
            foreach (var fetcher in _fetchers.Values) fetcher.Remove(partition);
    }

    public async ValueTask DisposeAsync()
    {
        List<ReplicaFetcher> fetchers;
        lock (_lock)
        {
            _disposed = true;
            fetchers = [.. _fetchers.Values];
            _fetchers.Clear();
        }
        _replicas.FollowerStopping -= Stop;
        _replicas.FollowerStarted -= Start;
        foreach (var fetcher in fetchers) await fetcher.DisposeAsync();
    }
}
