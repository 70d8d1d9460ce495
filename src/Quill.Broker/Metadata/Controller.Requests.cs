using Microsoft.Extensions.Logging;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Metadata;

/// <summary>
/// The controller's requests to the brokers over the Kafka protocol, as in Kafka's ZooKeeper mode, and a broker's
/// handling of them.
/// <para>
/// Sending: whenever the metadata cache changes on the active controller, <see cref="PropagateOnLoop"/> compares every
/// partition with what it last sent and, through the <see cref="ControllerChannel"/> (one queue per live broker):
/// LeaderAndIsr to the replicas of each partition whose leader, leader epoch or replica set changed (an election, a
/// controlled shutdown, a reassignment step, a new topic or partition); StopReplica with deletion to replicas a
/// reassignment removed and to every replica of a deleted topic; UpdateMetadata to every live broker with each
/// partition whose state changed (ISR changes included). A broker that joins or registers again gets LeaderAndIsr for
/// all its partitions and a full UpdateMetadata; a new controller sends both to every broker.
/// </para>
/// <para>
/// Receiving: <see cref="ApplyPartitionStatesAsync"/> and <see cref="StopReplicasAsync"/> run on the controller's
/// event loop, as the Keeper watches' work does, so the two paths apply states one at a time and the newer state wins
/// (by leader epoch, then partition epoch): whichever path comes second finds nothing new.
/// </para>
/// </summary>
public sealed partial class Controller
{
    /// <summary>The controller- and broker-epoch fences of this broker (<see cref="ControllerRequestCheck"/>).</summary>
    public ControllerRequestCheck RequestCheck { get; } = new();

    private sealed record SentState(Guid TopicId, int LeaderEpoch, int ZkVersion, int[] Replicas, int[] Adding, int[] Removing);

    private readonly Dictionary<(string Topic, int Partition), SentState> _sent = [];
    private ControllerChannel? _channel;
    private Task? _propagation;
    private int _propagatePending;

    /// <summary>Leader epoch a StopReplica carries for a topic being deleted (Kafka's EpochDuringDelete): no epoch check.</summary>
    private const int EpochDuringDelete = -2;

    /// <summary>Watches the metadata cache and posts <see cref="PropagateOnLoop"/> after changes (coalesced: one pending at a time).</summary>
    private void StartPropagation()
    {
        _propagation ??= Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var changed = _cache.WhenChanged;
                if ((_active || _channel is not null) && Interlocked.Exchange(ref _propagatePending, 1) == 0)
                {
                    RunWatchWork(_ =>
                    {
                        Volatile.Write(ref _propagatePending, 0);
                        PropagateOnLoop();
                        return Task.CompletedTask;
                    });
                }
                try
                {
                    await changed.WaitAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    /// <summary>A new controller epoch: forget what the previous term sent; every broker gets everything again.</summary>
    private void StartChannelOnLoop()
    {
        RequestCheck.Observe(_controllerEpoch);
        if (_channel is { } old) _ = old.DisposeAsync().AsTask();
        _channel = new ControllerChannel(BrokerId, _log, _cache.ControlPlaneListenerName ?? _cache.InterBrokerListenerName);
        _sent.Clear();
    }

    private void PropagateOnLoop()
    {
        if (!_active)
        {
            if (_channel is { } old)
            {
                _channel = null;
                _ = old.DisposeAsync().AsTask();
            }
            return;
        }
        var channel = _channel;
        if (channel is null) return;
        var live = _cache.Brokers.ToDictionary(b => b.Id);
        var joined = new HashSet<int>();
        foreach (var b in live.Values)
            if (!channel.Has(b))
            {
                channel.AddBroker(b);
                joined.Add(b.Id);
            }
        var left = channel.BrokerIds.Where(id => !live.ContainsKey(id)).ToList();
        foreach (int id in left) channel.RemoveBroker(id);

        var leaderAndIsr = new Dictionary<int, List<(TopicInfo Topic, PartitionInfo Partition)>>();
        var changed = new List<(TopicInfo Topic, PartitionInfo Partition)>();
        var all = new List<(TopicInfo Topic, PartitionInfo Partition)>();
        var stops = new Dictionary<int, List<(string Topic, int Partition, int LeaderEpoch)>>();
        var seen = new HashSet<(string, int)>();
        foreach (var topic in _cache.Topics)
        {
            foreach (var p in topic.Partitions)
            {
                var key = (topic.Name, p.Index);
                seen.Add(key);
                if (!p.State.IsWritten) continue;
                all.Add((topic, p));
                _sent.TryGetValue(key, out var before);
                // Deleted and created again under the same name: a new partition (each broker drops the old topic's log
                // when it loads the new one; a StopReplica by name here would delete the new log).
                if (before is not null && before.TopicId != topic.Id) before = null;
                bool leadership = before is null || before.LeaderEpoch != p.State.LeaderEpoch || !before.Replicas.SequenceEqual(p.Replicas)
                                  || !before.Adding.SequenceEqual(p.AddingReplicas) || !before.Removing.SequenceEqual(p.RemovingReplicas);
                if (leadership || before!.ZkVersion != p.State.ZkVersion) changed.Add((topic, p));
                foreach (int r in p.Replicas)
                    if (leadership || joined.Contains(r)) Add(leaderAndIsr, r, (topic, p));
                if (before is not null)
                    foreach (int r in before.Replicas.Except(p.Replicas)) Add(stops, r, (topic.Name, p.Index, p.State.LeaderEpoch));
                _sent[key] = new SentState(topic.Id, p.State.LeaderEpoch, p.State.ZkVersion, p.Replicas, p.AddingReplicas, p.RemovingReplicas);
            }
        }
        foreach (var key in _sent.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            foreach (int r in _sent[key].Replicas) Add(stops, r, (key.Topic, key.Partition, EpochDuringDelete));
            _sent.Remove(key);
        }

        // Per broker in Kafka's order: LeaderAndIsr, then UpdateMetadata, then StopReplica.
        foreach (var (id, broker) in live)
        {
            if (leaderAndIsr.TryGetValue(id, out var partitions))
                channel.Send(id, LeaderAndIsrRequest(broker, partitions, live), ControllerChannel.LeaderAndIsrVersion);
            if (joined.Contains(id))
                channel.Send(id, UpdateMetadataRequest(broker, all, live), ControllerChannel.UpdateMetadataVersion);
            else if (changed.Count > 0 || left.Count > 0 || joined.Count > 0)
                channel.Send(id, UpdateMetadataRequest(broker, changed, live), ControllerChannel.UpdateMetadataVersion);
            if (stops.TryGetValue(id, out var stopped))
                channel.Send(id, StopReplicaRequest(broker, stopped), ControllerChannel.StopReplicaVersion);
        }
    }

    private static void Add<T>(Dictionary<int, List<T>> lists, int broker, T item)
    {
        if (!lists.TryGetValue(broker, out var list)) lists[broker] = list = [];
        list.Add(item);
    }

    private LeaderAndIsrRequestData LeaderAndIsrRequest(BrokerInfo target, List<(TopicInfo Topic, PartitionInfo Partition)> partitions,
        Dictionary<int, BrokerInfo> live)
    {
        var request = new LeaderAndIsrRequestData { ControllerId = BrokerId, ControllerEpoch = _controllerEpoch, BrokerEpoch = target.Epoch };
        foreach (var group in partitions.GroupBy(x => x.Topic.Name))
        {
            var topic = new LeaderAndIsrRequestData.TopicStatesItem { TopicName = group.Key, TopicId = group.First().Topic.Id };
            foreach (var (_, p) in group)
                topic.PartitionStates.Add(new LeaderAndIsrRequestData.TopicStatesItem.PartitionStatesItem
                {
                    PartitionIndex = p.Index, ControllerEpoch = p.State.ControllerEpoch, Leader = p.State.Leader,
                    LeaderEpoch = p.State.LeaderEpoch, Isr = [.. p.State.Isr], PartitionEpoch = p.State.ZkVersion,
                    Replicas = [.. p.Replicas], AddingReplicas = [.. p.AddingReplicas], RemovingReplicas = [.. p.RemovingReplicas],
                });
            request.TopicStates.Add(topic);
        }
        foreach (int leader in partitions.Select(x => x.Partition.State.Leader).Distinct())
            if (live.TryGetValue(leader, out var b) && b.EndpointFor(_cache.InterBrokerListenerName) is { } endpoint)
                request.LiveLeaders.Add(new LeaderAndIsrRequestData.LiveLeadersItem { BrokerId = b.Id, HostName = endpoint.Host, Port = endpoint.Port });
        return request;
    }

    private UpdateMetadataRequestData UpdateMetadataRequest(BrokerInfo target, List<(TopicInfo Topic, PartitionInfo Partition)> partitions,
        Dictionary<int, BrokerInfo> live)
    {
        var request = new UpdateMetadataRequestData { ControllerId = BrokerId, ControllerEpoch = _controllerEpoch, BrokerEpoch = target.Epoch };
        foreach (var group in partitions.GroupBy(x => x.Topic.Name))
        {
            var topic = new UpdateMetadataRequestData.TopicStatesItem { TopicName = group.Key, TopicId = group.First().Topic.Id };
            foreach (var (_, p) in group)
                topic.PartitionStates.Add(new UpdateMetadataRequestData.TopicStatesItem.PartitionStatesItem
                {
                    PartitionIndex = p.Index, ControllerEpoch = p.State.ControllerEpoch, Leader = p.State.Leader,
                    LeaderEpoch = p.State.LeaderEpoch, Isr = [.. p.State.Isr], ZkVersion = p.State.ZkVersion, Replicas = [.. p.Replicas],
                    OfflineReplicas = [.. p.Replicas.Where(r => !live.ContainsKey(r))],
                });
            request.TopicStates.Add(topic);
        }
        foreach (var b in live.Values.OrderBy(b => b.Id))
        {
            var broker = new UpdateMetadataRequestData.LiveBrokersItem { Id = b.Id, Rack = b.Rack };
            var endpoints = b.Endpoints.Count > 0 ? b.Endpoints : [new Config.ListenerEndpoint(Config.ListenerConfig.Plaintext, b.Host, b.Port)];
            foreach (var endpoint in endpoints)
                // Only PLAINTEXT (security protocol 0) listeners exist.
                broker.Endpoints.Add(new UpdateMetadataRequestData.LiveBrokersItem.EndpointsItem
                {
                    Host = endpoint.Host, Port = endpoint.Port, Listener = endpoint.Name, SecurityProtocol = 0,
                });
            request.LiveBrokers.Add(broker);
        }
        return request;
    }

    private StopReplicaRequestData StopReplicaRequest(BrokerInfo target, List<(string Topic, int Partition, int LeaderEpoch)> partitions)
    {
        var request = new StopReplicaRequestData { ControllerId = BrokerId, ControllerEpoch = _controllerEpoch, BrokerEpoch = target.Epoch };
        foreach (var group in partitions.GroupBy(x => x.Topic))
        {
            var topic = new StopReplicaRequestData.TopicStatesItem { TopicName = group.Key };
            foreach (var (_, index, epoch) in group)
                topic.PartitionStates.Add(new StopReplicaRequestData.TopicStatesItem.PartitionStatesItem { PartitionIndex = index, LeaderEpoch = epoch, DeletePartition = true });
            request.TopicStates.Add(topic);
        }
        return request;
    }

    // ---- a broker receiving them ----

    /// <summary>A partition's state as a LeaderAndIsr or UpdateMetadata request gives it.</summary>
    public sealed record RequestedState(string Topic, Guid TopicId, int Partition, PartitionState State, int[] Replicas, int[] Adding, int[] Removing);

    /// <summary>
    /// Applies the partition states of a LeaderAndIsr (<paramref name="strict"/>: an older leader epoch is answered
    /// STALE_CONTROLLER_EPOCH for that partition, as Kafka's broker does) or UpdateMetadata (older states are skipped).
    /// A newer state becomes this broker's (cache, leader or follower with the request's leader epoch); a topic not
    /// loaded here yet is read from Keeper first (its configs live there). Returns each partition's error.
    /// </summary>
    public Task<List<(string Topic, int Partition, KafkaError Error)>> ApplyPartitionStatesAsync(string api, int controllerId, int controllerEpoch,
        IReadOnlyList<RequestedState> states, bool strict, CancellationToken ct) =>
        _events.RunAsync(async () =>
        {
            var errors = new List<(string, int, KafkaError)>();
            if (controllerId != _cache.ControllerId && states.Count > 0)
                _log.LogWarning("{Api} from broker {From} (controller epoch {Epoch}), which this broker does not know as the controller (it knows {Known}); accepted: its controller epoch is the newest seen",
                    api, controllerId, controllerEpoch, _cache.ControllerId);
            foreach (var s in states)
            {
                if (_cache.GetTopic(s.Topic) is not { } topic || (s.TopicId != Guid.Empty && topic.Id != s.TopicId))
                {
                    await LoadTopicOnLoopAsync(s.Topic, ct);
                    topic = _cache.GetTopic(s.Topic);
                }
                if (topic is null || s.Partition >= topic.Partitions.Count || (s.TopicId != Guid.Empty && topic.Id != s.TopicId))
                {
                    errors.Add((s.Topic, s.Partition, KafkaError.UnknownTopicOrPartition));
                    continue;
                }
                var held = topic.Partitions[s.Partition];
                switch (ControllerRequestCheck.Compare(s.State.LeaderEpoch, s.State.ZkVersion, held.State.LeaderEpoch, held.State.ZkVersion))
                {
                    case ControllerRequestCheck.StateOrder.Older:
                        if (strict)
                        {
                            _log.LogWarning("{Api} from controller {From} (epoch {Epoch}) for {Topic}-{Partition} ignored: its leader epoch {Requested} is older than the current {Held}",
                                api, controllerId, controllerEpoch, s.Topic, s.Partition, s.State.LeaderEpoch, held.State.LeaderEpoch);
                            errors.Add((s.Topic, s.Partition, KafkaError.StaleControllerEpoch));
                        }
                        else errors.Add((s.Topic, s.Partition, KafkaError.None));
                        continue;
                    case ControllerRequestCheck.StateOrder.Same:
                        errors.Add((s.Topic, s.Partition, KafkaError.None));
                        continue;
                }
                var updated = held with { Replicas = s.Replicas, AddingReplicas = s.Adding, RemovingReplicas = s.Removing, State = s.State };
                var updatedTopic = topic with { Partitions = [.. topic.Partitions.Select(p => p.Index == s.Partition ? updated : p)] };
                _cache.Put(updatedTopic);
                _log.LogInformation("{Api} from controller {From} (epoch {Epoch}): {Topic}-{Partition} leader {Leader}, leader epoch {LeaderEpoch}, ISR [{Isr}]",
                    api, controllerId, controllerEpoch, s.Topic, s.Partition, s.State.Leader, s.State.LeaderEpoch, string.Join(",", s.State.Isr));
                ServeLocalPartition(updatedTopic, updated);
                errors.Add((s.Topic, s.Partition, KafkaError.None));
            }
            return errors;
        });

    /// <summary>
    /// StopReplica: stops serving (and fetching) each partition and, when asked, deletes its log. A leader epoch older
    /// than the one held is FENCED_LEADER_EPOCH (KIP-570); -1 (no epoch) and -2 (topic deletion) are not checked.
    /// </summary>
    public Task<List<(string Topic, int Partition, KafkaError Error)>> StopReplicasAsync(int controllerId, int controllerEpoch,
        IEnumerable<(string Topic, int Partition, int LeaderEpoch, bool Delete)> partitions) =>
        _events.Run(() =>
        {
            var errors = new List<(string, int, KafkaError)>();
            foreach (var (topic, index, epoch, delete) in partitions)
            {
                int held = _cache.GetPartition(topic, index)?.State.LeaderEpoch ?? -1;
                if (epoch >= 0 && held >= 0 && epoch < held)
                {
                    _log.LogWarning("StopReplica from controller {From} (epoch {Epoch}) for {Topic}-{Partition} ignored: its leader epoch {Requested} is older than the current {Held}",
                        controllerId, controllerEpoch, topic, index, epoch, held);
                    errors.Add((topic, index, KafkaError.FencedLeaderEpoch));
                    continue;
                }
                if (epoch == EpochDuringDelete && _cache.GetTopic(topic) is not null)
                {
                    // Deleted by name: while this broker still holds a topic of that name (its deletion not seen here yet,
                    // or already a new topic of the same name) the topics watch drops it, which knows which one it is.
                    errors.Add((topic, index, KafkaError.None));
                    continue;
                }
                if (_replicas.Get(topic, index) is not null) LeadershipChanged?.Invoke(topic, index, false);
                if (delete)
                {
                    if (_replicas.GetHosted(topic, index) is not null || _replicas.AllLogs.Any(l => l.Topic == topic && l.Partition == index))
                        _log.LogInformation("StopReplica from controller {From} (epoch {Epoch}): deleting {Topic}-{Partition}", controllerId, controllerEpoch, topic, index);
                    _replicas.Delete(topic, index);
                }
                else _replicas.StopServing(topic, index);
                errors.Add((topic, index, KafkaError.None));
            }
            return errors;
        });
}
