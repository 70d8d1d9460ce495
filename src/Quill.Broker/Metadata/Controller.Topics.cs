using Quill.Broker.Config;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Keeper.Protocol;
using Microsoft.Extensions.Logging;

namespace Quill.Broker.Metadata;

/// <summary>A topic to create, as CreateTopics carries it (-1 for "the broker's default").</summary>
public sealed record NewTopic(string Name, int NumPartitions = -1, short ReplicationFactor = -1,
    IReadOnlyDictionary<int, int[]>? Assignments = null, IReadOnlyDictionary<string, string?>? Configs = null);

public sealed partial class Controller
{
    /// <summary>
    /// Creates a topic: validates it as Kafka's CreateTopics does (name, partitions, replication factor against the live
    /// brokers, assignment, configs), writes it to Keeper in one transaction, then opens the partitions led here. Only
    /// the controller creates topics this way; other brokers answer NOT_CONTROLLER, which sends clients to it.
    /// </summary>
    public async Task<(AdminResult Result, TopicInfo? Topic)> CreateTopicAsync(NewTopic request, bool validateOnly = false, CancellationToken ct = default)
    {
        if (!_active) return (NotController, null);
        var (plan, problem) = PlanTopic(request);
        if (plan is null) return (problem, null);
        if (validateOnly) return (_cache.GetTopic(request.Name) is null ? AdminResult.Ok : Exists(request.Name), plan);
        return await _events.RunAsync<(AdminResult Result, TopicInfo? Topic)>(async () =>
        {
            if (!_active) return (NotController, null);
            if (_cache.GetTopic(request.Name) is not null) return (Exists(request.Name), null);
            try
            {
                await _zk.CreateTopicAsync(plan, _epochZkVersion, ct);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
            {
                // Created meanwhile by someone writing to Keeper directly; load theirs.
                await LoadTopicOnLoopAsync(request.Name, ct);
                return (Exists(request.Name), null);
            }
            catch (ControllerMovedException)
            {
                OnControllerMovedOnLoop();
                return (NotController, null);
            }
            _cache.Put(plan);
            ServeLocalPartitionsOnLoop(plan);
            await _zk.WatchTopicAsync(plan.Name, OnTopicChanged, ct);
            foreach (var p in plan.Partitions) await _zk.ReadPartitionStateAsync(plan.Name, p.Index, OnPartitionStateChanged, ct);
            _log.LogInformation("Created topic {Topic} with {Partitions} partitions, replication factor {Rf}, id {Id}",
                plan.Name, plan.Partitions.Count, plan.ReplicationFactor, ZkData.TopicIdText(plan.Id));
            return (AdminResult.Ok, plan);
        });
    }

    private static readonly AdminResult NotController = new(KafkaError.NotController, "This is not the correct controller for this cluster.");

    /// <summary>How long a broker that is not the controller waits for the controller to elect the leaders of a topic it created.</summary>
    private static readonly TimeSpan CreationWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Creates the topic unless it exists (auto-creation, internal topics); returns the topic either way, or null and
    /// why not. A broker that is not the controller writes the topic's config and assignment to Keeper itself, as
    /// Kafka's brokers do for auto-creation, and waits a while for the controller to elect its leaders.
    /// </summary>
    public async Task<(AdminResult Result, TopicInfo? Topic)> GetOrCreateTopicAsync(NewTopic request, CancellationToken ct = default)
    {
        if (_cache.GetTopic(request.Name) is { } existing) return (AdminResult.Ok, existing);
        if (!_active) return await CreateThroughKeeperAsync(request, ct);
        var (result, topic) = await CreateTopicAsync(request, false, ct);
        if (result.Error == KafkaError.NotController) return await CreateThroughKeeperAsync(request, ct);
        if (result.Error == KafkaError.TopicAlreadyExists && _cache.GetTopic(request.Name) is { } raced) return (AdminResult.Ok, raced);
        return (result, topic);
    }

    private async Task<(AdminResult Result, TopicInfo? Topic)> CreateThroughKeeperAsync(NewTopic request, CancellationToken ct)
    {
        var (plan, problem) = PlanTopic(request);
        if (plan is null) return (problem, null);
        try
        {
            await _zk.CreateTopicAsync(plan, fence: null, ct);
            _log.LogInformation("Wrote topic {Topic} to Keeper for the controller to elect its leaders", plan.Name);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
        {
            // Another broker created it meanwhile: wait for that one.
        }
        var deadline = _time.GetUtcNow() + CreationWait;
        while (true)
        {
            var changed = _cache.WhenChanged;
            if (_cache.GetTopic(request.Name) is { } topic && topic.Partitions.All(p => p.State.IsWritten)) return (AdminResult.Ok, topic);
            var left = deadline - _time.GetUtcNow();
            if (left <= TimeSpan.Zero)
                return (new(KafkaError.LeaderNotAvailable, $"The controller has not elected the leaders of {request.Name} yet."), null);
            try
            {
                await changed.WaitAsync(left, _time, ct);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private static AdminResult Exists(string name) => new(KafkaError.TopicAlreadyExists, $"Topic '{name}' already exists.");

    private (TopicInfo? Plan, AdminResult Problem) PlanTopic(NewTopic request)
    {
        if (TopicNames.Validate(request.Name) is { } bad) return (null, new(KafkaError.InvalidTopicException, bad));
        var brokers = LiveBrokerIds();
        var live = brokers.ToHashSet();
        var assignment = new SortedDictionary<int, int[]>();
        if (request.Assignments is { Count: > 0 } given)
        {
            if (request.NumPartitions != -1 || request.ReplicationFactor != -1)
                return (null, new(KafkaError.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."));
            for (int p = 0; p < given.Count; p++)
            {
                if (!given.TryGetValue(p, out var replicas))
                    return (null, new(KafkaError.InvalidReplicaAssignment, $"Partitions should be numbered from 0 to {given.Count - 1}; partition {p} is missing"));
                if (CheckReplicas(replicas, brokers) is { } wrong) return (null, wrong);
                assignment[p] = replicas;
            }
        }
        else
        {
            int partitions = request.NumPartitions == -1 ? _options.NumPartitions : request.NumPartitions;
            int rf = request.ReplicationFactor == -1 ? _options.DefaultReplicationFactor : request.ReplicationFactor;
            if (partitions <= 0) return (null, new(KafkaError.InvalidPartitions, "Number of partitions must be larger than 0."));
            if (rf <= 0) return (null, new(KafkaError.InvalidReplicationFactor, "Replication factor must be larger than 0."));
            if (rf > brokers.Count)
                return (null, new(KafkaError.InvalidReplicationFactor, $"Replication factor: {rf} larger than available brokers: {brokers.Count}."));
            foreach (var (p, replicas) in ReplicaPlacement.Assign(partitions, rf, LiveBrokers())) assignment[p] = replicas;
        }
        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in request.Configs ?? new Dictionary<string, string?>())
        {
            if (TopicConfigs.Validate(name, value) is { } invalid) return (null, new(KafkaError.InvalidConfig, invalid));
            configs[name] = value!.Trim();
        }
        var infos = assignment.Select(a => new PartitionInfo(a.Key, a.Value,
            LeaderElection.Elect(a.Value, PartitionState.None, live, _controllerEpoch) ?? PartitionState.None)).ToList();
        return (new TopicInfo(request.Name, ZkData.NewTopicId(), infos, configs), AdminResult.Ok);
    }

    private List<int> LiveBrokerIds() => [.. LiveBrokers().Select(b => b.Id)];

    /// <summary>The registered brokers, this one included even if its registration is being renewed.</summary>
    private List<BrokerInfo> LiveBrokers()
    {
        var brokers = _cache.Brokers.ToList();
        if (!brokers.Any(b => b.Id == BrokerId)) brokers.Add(new BrokerInfo(BrokerId, "", 0, _options.Rack));
        brokers.Sort((a, b) => a.Id.CompareTo(b.Id));
        return brokers;
    }

    private static AdminResult? CheckReplicas(int[] replicas, List<int> brokers)
    {
        if (replicas.Length == 0) return new(KafkaError.InvalidReplicaAssignment, "Replica assignment has no replicas");
        if (replicas.Distinct().Count() != replicas.Length)
            return new(KafkaError.InvalidReplicaAssignment, $"Duplicate brokers not allowed in replica assignment: {string.Join(", ", replicas)}");
        if (replicas.FirstOrDefault(r => !brokers.Contains(r), -1) is var missing and not -1)
            return new(KafkaError.InvalidReplicaAssignment, $"Unknown broker {missing} in replica assignment; live brokers: {string.Join(", ", brokers)}");
        return null;
    }

    /// <summary>
    /// Deletes a topic as Kafka does: marks it in /admin/delete_topics, deletes its logs, removes its znodes and
    /// finally the marker (a crash in between is finished at the next start).
    /// </summary>
    public async Task<AdminResult> DeleteTopicAsync(string name, CancellationToken ct = default)
    {
        if (!_options.DeleteTopicEnable) return new(KafkaError.TopicDeletionDisabled, "Topic deletion is disabled.");
        return await _events.RunAsync<AdminResult>(async () =>
        {
            if (!_active) return NotController;
            if (_cache.GetTopic(name) is null) return new(KafkaError.UnknownTopicOrPartition, "This server does not host this topic-partition.");
            await _zk.MarkTopicForDeletionAsync(name, ct);
            await DeleteTopicOnLoopAsync(name, ct);
            return AdminResult.Ok;
        });
    }

    private async Task DeleteTopicOnLoopAsync(string name, CancellationToken ct)
    {
        if (_cache.GetTopic(name) is { } topic)
        {
            _cache.Remove(name);
            foreach (var p in topic.Partitions) _replicas.Delete(name, p.Index);
        }
        foreach (var log in _replicas.AllLogs.Where(l => l.Topic == name).ToList())
        {
            if (_replicas.Get(name, log.Partition) is not null) LeadershipChanged?.Invoke(name, log.Partition, false);
            _replicas.Delete(name, log.Partition);
        }
        await _zk.RemoveTopicAsync(name, ct);
        _log.LogInformation("Deleted topic {Topic}", name);
    }

    /// <summary>CreatePartitions: grows a topic to <paramref name="count"/> partitions (never shrinks it).</summary>
    public async Task<AdminResult> CreatePartitionsAsync(string name, int count, IReadOnlyList<int[]>? assignments, bool validateOnly, CancellationToken ct = default)
    {
        return await _events.RunAsync<AdminResult>(async () =>
        {
            if (!_active) return NotController;
            if (_cache.GetTopic(name) is not { } topic) return new(KafkaError.UnknownTopicOrPartition, $"The topic '{name}' does not exist.");
            int current = topic.Partitions.Count;
            if (count < current) return new(KafkaError.InvalidPartitions, $"Topic currently has {current} partitions, which is higher than the requested {count}.");
            if (count == current) return new(KafkaError.InvalidPartitions, $"Topic already has {current} partitions.");
            var brokers = LiveBrokerIds();
            List<(int Partition, int[] Replicas)> added;
            if (assignments is not null)
            {
                if (assignments.Count != count - current)
                    return new(KafkaError.InvalidReplicaAssignment, $"Increasing the number of partitions by {count - current} but {assignments.Count} assignments provided.");
                added = [];
                for (int i = 0; i < assignments.Count; i++)
                {
                    if (CheckReplicas(assignments[i], brokers) is { } wrong) return wrong;
                    if (assignments[i].Length != topic.ReplicationFactor)
                        return new(KafkaError.InvalidReplicaAssignment, $"Inconsistent replication factor between partitions, partition 0 has {topic.ReplicationFactor} while partition {current + i} has replication factor {assignments[i].Length}.");
                    added.Add((current + i, assignments[i]));
                }
            }
            else
            {
                if (topic.ReplicationFactor > brokers.Count)
                    return new(KafkaError.InvalidReplicationFactor, $"Replication factor: {topic.ReplicationFactor} larger than available brokers: {brokers.Count}.");
                added = ReplicaPlacement.Assign(count - current, topic.ReplicationFactor, LiveBrokers(), current);
            }
            if (validateOnly) return AdminResult.Ok;
            var live = brokers.ToHashSet();
            var newPartitions = added.Select(a => new PartitionInfo(a.Partition, a.Replicas,
                LeaderElection.Elect(a.Replicas, PartitionState.None, live, _controllerEpoch) ?? PartitionState.None)).ToList();
            var updated = topic with { Partitions = [.. topic.Partitions, .. newPartitions] };
            try
            {
                await _zk.AddPartitionsAsync(updated, newPartitions, _epochZkVersion, ct);
            }
            catch (ControllerMovedException)
            {
                OnControllerMovedOnLoop();
                return NotController;
            }
            _cache.Put(updated);
            ServeLocalPartitionsOnLoop(updated);
            foreach (var p in newPartitions) await _zk.ReadPartitionStateAsync(name, p.Index, OnPartitionStateChanged, ct);
            _log.LogInformation("Topic {Topic} now has {Count} partitions", name, count);
            return AdminResult.Ok;
        });
    }

    /// <summary>
    /// Creates an internal compacted topic (<c>__consumer_offsets</c>, <c>__transaction_state</c>) if needed and
    /// returns it. As Kafka does, it is not created while fewer brokers are up than its replication factor asks for
    /// (InvalidOperationException, which FindCoordinator answers COORDINATOR_NOT_AVAILABLE and clients retry): a
    /// cluster still starting would otherwise keep an internal topic with too few replicas. A lone broker sets
    /// offsets.topic.replication.factor and transaction.state.log.replication.factor to 1 (`quill start` does).
    /// </summary>
    public async Task<TopicInfo> EnsureInternalTopicAsync(string name, int partitions, short replicationFactor,
        IReadOnlyDictionary<string, string?> configs, CancellationToken ct)
    {
        if (_cache.GetTopic(name) is { } existing) return existing;
        int live = LiveBrokerIds().Count;
        if (replicationFactor > live)
            throw new InvalidOperationException($"{name} needs {replicationFactor} live brokers for its replication factor, but {live} are up; " +
                                                "it is created once enough are (or lower the replication factor for a smaller cluster)");
        var (result, topic) = await GetOrCreateTopicAsync(new NewTopic(name, partitions, replicationFactor, Configs: configs), ct);
        return topic ?? throw new InvalidOperationException($"cannot create {name}: {result.Error} {result.Message}");
    }
}
