using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Metrics;

/// <summary>
/// The broker's measurements as <see cref="Meter"/> instruments, named as Kafka's metrics appear through the
/// Prometheus JMX exporter (kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec becomes
/// <c>kafka_server_brokertopicmetrics_bytesin_total</c>), so operators' dashboards and alerts carry over. Figures Kafka
/// has no metric for are named <c>quill_*</c>. The hot-path methods add to a counter with a cached tag and allocate
/// nothing once a topic has been seen.
/// </summary>
public sealed class BrokerMetrics : IDisposable
{
    private static readonly double[] LatencyBucketsMs = [0.1, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000];
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestTime;
    private readonly Counter<long> _bytesIn;
    private readonly Counter<long> _bytesOut;
    private readonly Counter<long> _messagesIn;
    private readonly Histogram<double> _flushTime;
    private readonly Counter<long> _replicationBytesIn;
    private readonly Counter<long> _replicationBytesOut;
    private readonly Counter<long> _isrShrinks;
    private readonly Counter<long> _isrExpands;
    private readonly Histogram<double> _leaderElectionTime;
    private readonly ConcurrentDictionary<string, KeyValuePair<string, object?>> _topicTags = new(StringComparer.Ordinal);
    private int _fetchesWaiting;
    private BrokerServices? _services;

    public BrokerMetrics()
    {
        Meter = new Meter("Quill.Broker");
        _requests = Meter.CreateCounter<long>("kafka_network_requestmetrics_requests_total", description: "Requests answered, by API.");
        _requestTime = Meter.CreateHistogram<double>("kafka_network_requestmetrics_totaltimems", description: "Time from a request's decoding to its answer (ms), by API.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
        // As Kafka's BrokerTopicMetrics: one series per topic, and the all-topics one without a topic label.
        _bytesIn = Meter.CreateCounter<long>("kafka_server_brokertopicmetrics_bytesin_total",
            description: "Record bytes appended by producers, by topic (no label: all topics).");
        _bytesOut = Meter.CreateCounter<long>("kafka_server_brokertopicmetrics_bytesout_total",
            description: "Record bytes sent to consumers, by topic (no label: all topics; followers are counted as replication bytes out).");
        _messagesIn = Meter.CreateCounter<long>("kafka_server_brokertopicmetrics_messagesin_total",
            description: "Records appended by producers, by topic (no label: all topics).");
        _replicationBytesIn = Meter.CreateCounter<long>("kafka_server_brokertopicmetrics_replicationbytesin_total",
            description: "Record bytes this broker's followers appended from their leaders.");
        _replicationBytesOut = Meter.CreateCounter<long>("kafka_server_brokertopicmetrics_replicationbytesout_total",
            description: "Record bytes sent to other brokers' followers.");
        _isrShrinks = Meter.CreateCounter<long>("kafka_server_replicamanager_isrshrinks_total",
            description: "ISR changes this broker made as a leader that dropped a follower.");
        _isrExpands = Meter.CreateCounter<long>("kafka_server_replicamanager_isrexpands_total",
            description: "ISR changes this broker made as a leader that added a follower back.");
        _leaderElectionTime = Meter.CreateHistogram<double>("kafka_controller_controllerstats_leaderelectionrateandtimems",
            description: "Broker changes the controller handled, electing leaders where a leader left, and the time each took (ms).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });
        _flushTime = Meter.CreateHistogram<double>("kafka_log_logflushstats_logflushrateandtimems", description: "Time a log flush (fsync) took (ms).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBucketsMs });

        Meter.CreateObservableGauge("kafka_server_delayedoperationpurgatory_purgatorysize", () => new[]
        {
            // Kafka counts a produce once per partition it waits on; so does this.
            new Measurement<int>(DelayedProduces(), new KeyValuePair<string, object?>("delayedOperation", "Produce")),
            new Measurement<int>(Volatile.Read(ref _fetchesWaiting), new KeyValuePair<string, object?>("delayedOperation", "Fetch")),
        }, description: "Requests waiting: acks=all produces for the in-sync replicas (per partition), fetches for data (long polls).");
        Meter.CreateObservableGauge("kafka_server_replicamanager_partitioncount", () => _services?.Replicas.Hosted.Count ?? 0,
            description: "Partitions this broker holds a replica of (leading or following).");
        Meter.CreateObservableGauge("kafka_server_replicamanager_leadercount", () => Count((p, self) => p.State.Leader == self),
            description: "Partitions this broker leads.");
        Meter.CreateObservableGauge("kafka_server_replicamanager_underreplicatedpartitions",
            () => Count((p, self) => p.State.Leader == self && p.State.Isr.Length < p.Replicas.Length),
            description: "Partitions this broker leads whose in-sync replicas are fewer than their replicas.");
        Meter.CreateObservableGauge("kafka_server_replicamanager_underminisrpartitioncount",
            () => CountLed(p => p.Isr.Length < p.Log.Config.MinInSyncReplicas),
            description: "Partitions this broker leads whose ISR is below min.insync.replicas (acks=all produces are refused).");
        Meter.CreateObservableGauge("kafka_server_replicamanager_atminisrpartitioncount",
            () => CountLed(p => p.Isr.Length == p.Log.Config.MinInSyncReplicas),
            description: "Partitions this broker leads whose ISR is exactly min.insync.replicas (one more loss refuses acks=all).");
        // Kafka counts replicas whose log dir failed; Quill does not take a failed log dir offline (an I/O error stops
        // the broker), so no replica here is ever offline while the broker serves.
        Meter.CreateObservableGauge("kafka_server_replicamanager_offlinereplicacount", () => 0,
            description: "Replicas on this broker whose log directory is offline (always 0: a log dir failure stops the broker).");
        Meter.CreateObservableGauge("kafka_controller_kafkacontroller_activecontrollercount", () => IsController ? 1 : 0,
            description: "1 on the broker that is the controller.");
        Meter.CreateObservableGauge("kafka_controller_kafkacontroller_offlinepartitionscount", OfflinePartitions,
            description: "Partitions without a live leader (reported by the controller only, as Kafka does).");
        Meter.CreateObservableGauge("kafka_controller_kafkacontroller_activebrokercount", () => IsController ? _services!.LiveBrokers.Count : 0,
            description: "Registered brokers (reported by the controller only).");
        Meter.CreateObservableGauge("kafka_controller_kafkacontroller_globaltopiccount", () => IsController ? _services!.Metadata.Topics.Count() : 0,
            description: "Topics in the cluster (reported by the controller only).");
        Meter.CreateObservableGauge("kafka_controller_kafkacontroller_globalpartitioncount", () => IsController ? Count((_, _) => true) : 0,
            description: "Partitions in the cluster (reported by the controller only).");
        // unclean.leader.election.enable is always false here: a partition with no live in-sync replica stays offline.
        Meter.CreateObservableCounter("kafka_controller_controllerstats_uncleanleaderelections_total", () => 0L,
            description: "Leaders elected from outside the ISR (always 0: unclean leader election is not done).");
        Meter.CreateObservableGauge("kafka_coordinator_group_groupmetadatamanager_numgroups", () => Groups(null), description: "Consumer groups.");
        foreach (var state in Enum.GetValues<GroupState>())
        {
            Meter.CreateObservableGauge($"kafka_coordinator_group_groupmetadatamanager_numgroups{state.ToString().ToLowerInvariant()}",
                () => Groups(state), description: $"Consumer groups in state {state}.");
        }
        Meter.CreateObservableGauge("quill_transaction_coordinator_transactional_ids",
            () => _services?.Transactions?.Current?.TransactionalIdCount ?? 0, description: "Transactional ids the transaction coordinator knows.");
    }

    /// <summary>The meter to export (one per broker, so brokers sharing a process keep their numbers apart).</summary>
    public Meter Meter { get; }

    /// <summary>Where the gauges read the broker's state; until set they read 0.</summary>
    public void Observe(BrokerServices services) => _services = services;

    public void RequestAnswered(in KeyValuePair<string, object?> apiTag, double elapsedMs)
    {
        _requests.Add(1, apiTag);
        _requestTime.Record(elapsedMs, apiTag);
    }

    /// <summary>The tag a handler's requests are counted under (Kafka's request="Produce").</summary>
    public static KeyValuePair<string, object?> RequestTag(ApiKey api) => new("request", api.ToString());

    public void Produced(string topic, long bytes, long records)
    {
        if (!_bytesIn.Enabled) return; // nobody exports: skip the topic lookup
        var tag = TopicTag(topic);
        _bytesIn.Add(bytes, tag);
        _bytesIn.Add(bytes);
        _messagesIn.Add(records, tag);
        _messagesIn.Add(records);
    }

    /// <summary>Records read for a fetcher: a consumer's count as bytes out, a follower's (<paramref name="byFollower"/>) as replication.</summary>
    public void Fetched(string topic, long bytes, bool byFollower = false)
    {
        if (byFollower)
        {
            _replicationBytesOut.Add(bytes);
            return;
        }
        if (!_bytesOut.Enabled) return;
        _bytesOut.Add(bytes, TopicTag(topic));
        _bytesOut.Add(bytes);
    }

    /// <summary>A follower appended bytes fetched from its leader.</summary>
    public void Replicated(long bytes) => _replicationBytesIn.Add(bytes);

    /// <summary>This broker, as leader, wrote a new ISR: counted as a shrink if a member left, an expansion if one joined.</summary>
    public void IsrChanged(int[] before, int[] after)
    {
        if (before.Any(r => !after.Contains(r))) _isrShrinks.Add(1);
        if (after.Any(r => !before.Contains(r))) _isrExpands.Add(1);
    }

    /// <summary>Times the controller's handling of a broker change (Kafka's LeaderElectionRateAndTimeMs); dispose when done.</summary>
    public ElectionTiming TimeLeaderElection() => new(_leaderElectionTime, Stopwatch.GetTimestamp());

    public readonly struct ElectionTiming(Histogram<double> histogram, long started) : IDisposable
    {
        public void Dispose() => histogram.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    public void FetchWaitStarted() => Interlocked.Increment(ref _fetchesWaiting);

    public void FetchWaitEnded() => Interlocked.Decrement(ref _fetchesWaiting);

    public void LogFlushed(double elapsedMs) => _flushTime.Record(elapsedMs);

    private KeyValuePair<string, object?> TopicTag(string topic) =>
        _topicTags.TryGetValue(topic, out var tag) ? tag : _topicTags.GetOrAdd(topic, t => new("topic", t));

    private bool IsController => _services is { } s && s.Metadata.ControllerId == s.Options.BrokerId;

    private int Count(Func<Metadata.PartitionInfo, int, bool> predicate)
    {
        if (_services is not { } s) return 0;
        int count = 0;
        foreach (var topic in s.Metadata.Topics)
            foreach (var partition in topic.Partitions)
                if (predicate(partition, s.Options.BrokerId)) count++;
        return count;
    }

    /// <summary>Counts the partitions this broker leads, from their own state (the ISR as this leader last wrote it).</summary>
    private int CountLed(Func<Partitions.Partition, bool> predicate) => _services?.Replicas.Partitions.Count(predicate) ?? 0;

    private int DelayedProduces() => _services?.Replicas.Partitions.Sum(p => p.DelayedProduceCount) ?? 0;

    private int OfflinePartitions()
    {
        if (!IsController) return 0;
        var live = _services!.LiveBrokers.Select(b => b.Id).ToHashSet();
        return Count((p, _) => !live.Contains(p.State.Leader));
    }

    private int Groups(GroupState? state)
    {
        var counts = _groupCounts;
        return state is { } only ? counts.ByState[(int)only] : counts.Total;
    }

    /// <summary>The groups by state as the shards last listed them (what the group gauges read).</summary>
    private sealed record GroupCounts(int Total, int[] ByState)
    {
        public static readonly GroupCounts None = new(0, new int[Enum.GetValues<GroupState>().Max(s => (int)s) + 1]);
    }

    private volatile GroupCounts _groupCounts = GroupCounts.None;

    /// <summary>
    /// Takes the counts the coordinator gauges read; run before each scrape (the metrics endpoint's hook). Each shard
    /// owns its groups on its own loop, so the list is asked of the loops and awaited here, never in a gauge callback;
    /// a shard busy longer than <see cref="RefreshWait"/> leaves the previous counts in place rather than holding up
    /// the scrape.
    /// </summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        if (_services?.Groups is not { IsActive: true } groups) return;
        try
        {
            var (error, list) = await groups.ListGroupsAsync().WaitAsync(RefreshWait, ct).ConfigureAwait(false);
            if (error != Kafka.Protocol.KafkaError.None) return; // stopping: keep the previous counts
            var byState = new int[GroupCounts.None.ByState.Length];
            foreach (var group in list) byState[(int)group.State]++;
            _groupCounts = new GroupCounts(list.Count, byState);
        }
        catch (TimeoutException)
        {
        }
    }

    /// <summary>How long <see cref="RefreshAsync"/> waits for the shards.</summary>
    internal static TimeSpan RefreshWait { get; } = TimeSpan.FromSeconds(2);

    public void Dispose() => Meter.Dispose();
}
