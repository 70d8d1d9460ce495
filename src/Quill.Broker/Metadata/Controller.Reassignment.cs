using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Broker.Metadata;

/// <summary>
/// Partition reassignment (AlterPartitionReassignments, KIP-455), in Kafka's ZooKeeper-mode layout: the topic's node
/// holds the moving partition's replicas (target + origin) with its adding_replicas and removing_replicas; every broker
/// reloads it through its watch, so the added replicas start fetching; when the leader has taken them into the ISR
/// (its state-znode write fires the controller's watch), the controller writes the target alone, the ISR without the
/// removed replicas and, if needed, a new leader, in one fenced multi. The removed brokers then drop their logs.
/// </summary>
public sealed partial class Controller
{
    /// <summary>
    /// Starts (or cancels, with a null target) the reassignment of one partition; Kafka's checks first: an empty or
    /// duplicated list, a negative or dead added broker (INVALID_REPLICA_ASSIGNMENT), an unknown partition, a cancel with
    /// nothing in progress (NO_REASSIGNMENT_IN_PROGRESS). The move itself goes on after the answer.
    /// </summary>
    public Task<AdminResult> ReassignPartitionAsync(string topic, int index, int[]? target, CancellationToken ct = default) =>
        _events.RunAsync<AdminResult>(async () =>
        {
            if (!_active) return NotController;
            try
            {
                return await ReassignOnLoopAsync(topic, index, target, ct);
            }
            catch (ControllerMovedException)
            {
                OnControllerMovedOnLoop();
                return NotController;
            }
        });

    private async Task<AdminResult> ReassignOnLoopAsync(string topic, int index, int[]? target, CancellationToken ct)
    {
        var partition = _cache.GetPartition(topic, index);
        if (target is null)
        {
            if (partition is not { IsReassigning: true }) return new(KafkaError.NoReassignmentInProgress, "No partition reassignment is in progress.");
            return await FinishReassignmentOnLoopAsync(topic, index, PartitionReassignment.Origin(partition), cancel: true, ct);
        }
        if (target.Length == 0) return InvalidAssignment("the replica list is empty");
        if (target.Distinct().Count() != target.Length) return InvalidAssignment($"the replica list {Show(target)} has duplicates");
        if (target.Any(id => id < 0)) return InvalidAssignment($"the replica list {Show(target)} has a negative broker id");
        var live = LiveBrokerIds().ToHashSet();
        var current = partition?.Replicas ?? [];
        var deadAdded = target.Where(id => !current.Contains(id) && !live.Contains(id)).ToArray();
        if (deadAdded.Length > 0) return InvalidAssignment($"brokers {Show(deadAdded)} of {Show(target)} are not alive (live brokers: {Show(live.Order())})");
        if (partition is null || _cache.GetTopic(topic) is not { } info) return new(KafkaError.UnknownTopicOrPartition, "The partition does not exist.");
        if (!partition.IsReassigning && target.SequenceEqual(partition.Replicas)) return AdminResult.Ok;

        var moving = PartitionReassignment.Begin(partition, target);
        if (!moving.IsReassigning)
        {
            // Only the order changes (the preferred leader, say): nothing to copy, the new list is written at once.
            moving = moving with { Replicas = target, AddingReplicas = [], RemovingReplicas = [] };
        }
        var updated = WithPartition(info, moving);
        await _zk.WriteReassignmentAsync(updated, _epochZkVersion, null, ct);
        _cache.Put(updated);
        ServeLocalPartition(updated, moving);
        _log.LogInformation("{Topic}-{Partition}: reassigning from {Origin} to {Target} (adding {Adding}, removing {Removing})", topic, index,
            Show(PartitionReassignment.Origin(partition)), Show(target), Show(moving.AddingReplicas), Show(moving.RemovingReplicas));
        if (moving.IsReassigning) await TryFinishReassignmentOnLoopAsync(topic, index, ct);
        return AdminResult.Ok;
    }

    /// <summary>The partitions being reassigned now, with their replicas, adding and removing lists (ListPartitionReassignments).</summary>
    public AdminResult ListReassignments(out IReadOnlyList<(string Topic, PartitionInfo Partition)> reassigning)
    {
        reassigning = [.. _cache.Topics.SelectMany(t => t.Partitions.Where(p => p.IsReassigning).Select(p => (t.Name, p)))];
        return _active ? AdminResult.Ok : NotController;
    }

    /// <summary>Completes the partition's reassignment if every target replica is in the ISR now; otherwise waits for the next ISR change.</summary>
    private async Task TryFinishReassignmentOnLoopAsync(string topic, int index, CancellationToken ct)
    {
        if (_cache.GetPartition(topic, index) is not { IsReassigning: true } partition) return;
        await FinishReassignmentOnLoopAsync(topic, index, PartitionReassignment.Target(partition), cancel: false, ct);
    }

    /// <summary>
    /// Writes the partition's final replicas (the target, or the origin when cancelling) with its new state, decided
    /// from the state read now and written only if it is still that version (the leader may be changing the ISR).
    /// </summary>
    private async Task<AdminResult> FinishReassignmentOnLoopAsync(string topic, int index, int[] replicas, bool cancel, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (_cache.GetTopic(topic) is not { } info || index >= info.Partitions.Count) return new(KafkaError.UnknownTopicOrPartition, "The partition does not exist.");
            var partition = info.Partitions[index];
            var current = await _zk.ReadPartitionStateAsync(topic, index, null, ct) ?? partition.State;
            if (PartitionReassignment.Finish(replicas, current, LiveBrokerIds().ToHashSet(), _controllerEpoch, force: cancel) is not { } finished)
                return AdminResult.Ok; // an added replica is still catching up
            var done = partition with { Replicas = replicas, AddingReplicas = [], RemovingReplicas = [], State = finished };
            var updated = WithPartition(info, done);
            try
            {
                await _zk.WriteReassignmentAsync(updated, _epochZkVersion, (index, finished, current.ZkVersion), ct);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.BadVersion && attempt < 5)
            {
                continue; // the leader changed the ISR meanwhile: decide again on what it wrote
            }
            updated = WithPartition(updated, done with { State = finished with { ZkVersion = current.ZkVersion + 1 } });
            _cache.Put(updated);
            ServeLocalPartition(updated, updated.Partitions[index]);
            _log.LogInformation("{Topic}-{Partition}: reassignment {Outcome}: replicas {Replicas}, leader {Leader} (epoch {Epoch}), ISR {Isr}", topic, index,
                cancel ? "cancelled" : "completed", Show(replicas), finished.Leader, finished.LeaderEpoch, Show(finished.Isr));
            return AdminResult.Ok;
        }
    }

    private static TopicInfo WithPartition(TopicInfo topic, PartitionInfo partition) =>
        topic with { Partitions = [.. topic.Partitions.Select(p => p.Index == partition.Index ? partition : p)] };

    private static AdminResult InvalidAssignment(string why) => new(KafkaError.InvalidReplicaAssignment, $"Invalid replica assignment: {why}.");

    private static string Show(IEnumerable<int> ids) => "[" + string.Join(", ", ids) + "]";
}
