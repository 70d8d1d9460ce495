using Microsoft.Extensions.Logging;
using Quill.Broker.Config;
using Quill.Broker.Log;
using Quill.Broker.Partitions;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Broker.Metadata;

/// <summary>A metadata change refused with one of Kafka's error codes, or done (<see cref="Kafka.Protocol.KafkaError.None"/>).</summary>
public readonly record struct AdminResult(Kafka.Protocol.KafkaError Error, string? Message = null)
{
    public static AdminResult Ok => new(Kafka.Protocol.KafkaError.None);
    public bool IsOk => Error == Kafka.Protocol.KafkaError.None;
}

/// <summary>
/// The controller of a one-broker cluster (Kafka's KafkaController in ZooKeeper mode): holds /controller, owns every
/// metadata change (topic creation, deletion, new partitions, config changes), writes it to Keeper first and then to
/// the <see cref="MetadataCache"/> and the <see cref="ReplicaManager"/>. Changes made by other tools directly in
/// Keeper (a topic node created or given more partitions, a /admin/delete_topics marker, a config change notification)
/// are picked up through watches. When the Keeper session expires, <see cref="ResumeAsync"/> takes the new session
/// and reloads everything, as a new controller would. Leader epochs live in each partition's state znode; they change
/// only when a partition's leader changes (which, with one broker, happens only when the broker's id changes), so a
/// restart keeps them.
/// <para>
/// Every change runs on the controller's <see cref="EventLoop"/> (Kafka's ControllerEventManager): admin requests and
/// the events Keeper's watches post are handled one at a time, in the order they arrived, and methods named
/// <c>...OnLoop</c> only run there. A failed event is logged; the next one runs.
/// </para>
/// </summary>
public sealed partial class Controller : IAsyncDisposable
{
    private readonly KafkaZkClient _zk;
    private readonly MetadataCache _cache;
    private readonly ReplicaManager _replicas;
    private readonly BrokerOptions _options;
    private readonly DynamicBrokerConfig _dynamicConfig;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly EventLoop _events;
    private readonly CancellationTokenSource _stop = new();
    private int _controllerEpoch;

    public Controller(KafkaZkClient zk, MetadataCache cache, ReplicaManager replicas, BrokerOptions options,
        DynamicBrokerConfig dynamicConfig, TimeProvider time, ILogger log)
    {
        _time = time;
        _dynamicConfig = dynamicConfig;
        _zk = zk;
        _cache = cache;
        _replicas = replicas;
        _options = options;
        _log = log;
        _events = new EventLoop("controller", log);
    }

    private int BrokerId => _options.BrokerId;

    /// <summary>The log settings of a topic: the broker defaults with its overrides (used for logs found on disk at start).</summary>
    public LogConfig LogConfigFor(string topic) =>
        _cache.GetTopic(topic) is { } t ? TopicConfigs.ToLogConfig(_options.LogDefaults, t.Configs) : _options.LogDefaults;

    /// <summary>
    /// Becomes the controller, loads every topic from Keeper, finishes deletions a crash interrupted, elects leaders
    /// where needed, and opens the partitions this broker leads. Then watches for changes made by others.
    /// </summary>
    public async Task StartAsync(string clusterId, TimeSpan waitForStale, CancellationToken ct)
    {
        await LoadEverythingAsync(clusterId, waitForStale, ct);
        CleanStrayLogs();
    }

    /// <summary>
    /// After the Keeper session expired and a new one was made (this broker registered again): becomes the controller
    /// again and reloads every topic and config, since changes made meanwhile fired no watch on the old session.
    /// Topics that are gone from Keeper are dropped; the others keep their open logs.
    /// </summary>
    public Task ResumeAsync(TimeSpan waitForStale, CancellationToken ct) =>
        LoadEverythingAsync(_cache.ClusterId, waitForStale, ct);

    private Task LoadEverythingAsync(string clusterId, TimeSpan waitForStale, CancellationToken ct) =>
        _events.RunAsync(async () =>
        {
            _controllerEpoch = await _zk.BecomeControllerAsync(BrokerId, waitForStale, ct);
            _cache.SetCluster(clusterId, BrokerId, await _zk.GetBrokersAsync(ct));
            _log.LogInformation("Broker {Id} is the controller (epoch {Epoch})", BrokerId, _controllerEpoch);
            await WatchConfigChangesOnLoopAsync(ct);
            await ReloadBrokerConfigsOnLoopAsync(ct);
            var names = await _zk.GetTopicNamesAsync(OnTopicsChanged, ct);
            foreach (string topic in names) await LoadTopicOnLoopAsync(topic, ct);
            foreach (var gone in _cache.Topics.Where(t => !names.Contains(t.Name)).ToList()) DropTopicOnLoop(gone.Name);
            foreach (string topic in await _zk.GetTopicsMarkedForDeletionAsync(OnDeletionsChanged, ct)) await DeleteTopicOnLoopAsync(topic, ct);
        });

    /// <summary>
    /// Reads a topic from Keeper into the cache (watching its node for new partitions): gives it a topic id if an
    /// older tool wrote it without one, writes a state for partitions that lack one or whose leader is gone, and
    /// opens the partitions this broker leads. Loading a topic already known refreshes it.
    /// </summary>
    private async Task LoadTopicOnLoopAsync(string name, CancellationToken ct)
    {
        if (await _zk.ReadTopicAsync(name, OnTopicChanged, ct) is not { } read)
        {
            DropTopicOnLoop(name);
            return;
        }
        var (id, assignment, states, configs) = read;
        if (id is null)
        {
            id = ZkData.NewTopicId();
            await _zk.SetTopicAssignmentAsync(name, id.Value, assignment, ct);
        }
        if (_cache.GetTopic(name) is { } known && known.Id != id)
        {
            // Deleted and created again while this broker was not watching: the old topic's logs are not this one's.
            DropTopicOnLoop(name);
        }
        var live = _cache.Brokers.Select(b => b.Id).Append(BrokerId).ToHashSet();
        var partitions = new List<PartitionInfo>();
        foreach (var (index, replicas) in assignment)
        {
            var state = states.GetValueOrDefault(index);
            if (state is null || !live.Contains(state.Leader))
            {
                int leader = replicas.FirstOrDefault(live.Contains, -1);
                var elected = new PartitionState(leader, state is null ? 0 : state.LeaderEpoch + 1,
                    replicas.Where(live.Contains).ToArray(), _controllerEpoch);
                await _zk.SetPartitionStateAsync(name, index, elected, ct);
                if (state is not null) _log.LogInformation("{Topic}-{Partition}: leader {Old} is gone, elected {New} (epoch {Epoch})",
                    name, index, state.Leader, leader, elected.LeaderEpoch);
                state = elected;
            }
            partitions.Add(new PartitionInfo(index, replicas, state));
        }
        var topic = new TopicInfo(name, id.Value, partitions, configs);
        _cache.Put(topic);
        OpenLocalPartitions(topic);
        _replicas.UpdateConfig(name, TopicConfigs.ToLogConfig(_options.LogDefaults, configs));
    }

    private void OpenLocalPartitions(TopicInfo topic)
    {
        var config = TopicConfigs.ToLogConfig(_options.LogDefaults, topic.Configs);
        foreach (var p in topic.Partitions)
        {
            if (p.State.Leader != BrokerId) continue;
            if (_replicas.Get(topic.Name, p.Index) is null)
            {
                // A log of an older topic of the same name (deleted while this broker was away) is not this topic's.
                var stale = _replicas.AllLogs.FirstOrDefault(l => l.Topic == topic.Name && l.Partition == p.Index);
                if (stale is not null && PartitionMetadataFile.Read(stale.Dir) is { } recorded && recorded != topic.Id)
                {
                    _log.LogWarning("{Dir} belongs to an older topic {Topic} (id {Old}, now {New}); deleting it",
                        stale.Dir, topic.Name, ZkData.TopicIdText(recorded), ZkData.TopicIdText(topic.Id));
                    _replicas.Delete(topic.Name, p.Index);
                }
            }
            _replicas.Open(topic.Name, p.Index, topic.Id, p.State.LeaderEpoch, config);
        }
    }

    /// <summary>Logs on disk that no topic in Keeper claims are left alone (never deleted on a guess), but reported.</summary>
    private void CleanStrayLogs()
    {
        foreach (var log in _replicas.AllLogs)
            if (_cache.GetPartition(log.Topic, log.Partition) is null)
                _log.LogWarning("{Dir} holds a partition that no topic in Keeper has; it is not served", log.Dir);
    }

    private void DropTopicOnLoop(string name)
    {
        if (_cache.GetTopic(name) is not { } topic) return;
        _cache.Remove(name);
        foreach (var p in topic.Partitions) _replicas.Delete(name, p.Index);
        _log.LogInformation("Topic {Topic} was deleted", name);
    }

    // ---- watches: changes made by others directly in Keeper ----

    private void OnTopicsChanged(WatchedEvent e) => RunWatchWork(async ct =>
    {
        var names = await _zk.GetTopicNamesAsync(OnTopicsChanged, ct);
        var known = _cache.Topics.Select(t => t.Name).ToHashSet();
        foreach (string name in names.Where(n => !known.Contains(n))) await LoadTopicOnLoopAsync(name, ct);
        foreach (string name in known.Where(n => !names.Contains(n))) DropTopicOnLoop(name);
    });

    /// <summary>A topic's node changed (e.g. a tool wrote more partitions into it): load it again.</summary>
    private void OnTopicChanged(WatchedEvent e)
    {
        if (e.Type != EventType.NodeDataChanged || e.Path is null) return;
        string name = e.Path[(ZkPaths.BrokerTopics.Length + 1)..];
        RunWatchWork(ct => LoadTopicOnLoopAsync(name, ct));
    }

    private void OnDeletionsChanged(WatchedEvent e) => RunWatchWork(async ct =>
    {
        foreach (string topic in await _zk.GetTopicsMarkedForDeletionAsync(OnDeletionsChanged, ct))
            await DeleteTopicOnLoopAsync(topic, ct);
    });

    /// <summary>
    /// A watch fired: its work is posted to the loop and runs after every change already queued, so watches are
    /// handled in the order they fired (the callback itself must not block the Keeper client's event stream).
    /// </summary>
    private void RunWatchWork(Func<CancellationToken, Task> work)
    {
        if (_stop.IsCancellationRequested) return;
        _events.Post(async () =>
        {
            try
            {
                await work(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (KeeperException e) when (e.Code is ErrorCode.SessionExpired or ErrorCode.ConnectionLoss)
            {
                _log.LogWarning("Keeper unavailable while applying a metadata change: {Reason}", e.Message);
            }
            catch (Exception e)
            {
                _log.LogError(e, "Applying a metadata change from Keeper failed");
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        // Let a change in progress finish so Keeper and the logs agree; events still queued see the stop and end.
        try
        {
            await _events.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            _log.LogWarning("A metadata change was still running when the controller stopped");
        }
        _stop.Dispose();
    }
}
