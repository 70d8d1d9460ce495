using Microsoft.Extensions.Logging;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Broker.Metadata;

/// <summary>
/// The broker's metadata operations on Keeper (Kafka's KafkaZkClient): typed reads and writes of the znode layout in
/// <see cref="ZkPaths"/>, with multi-ops where several nodes must change together. The only path to metadata.
/// </summary>
public sealed class KafkaZkClient(KeeperClient keeper, ILogger log, TimeProvider time)
{
    private volatile KeeperClient _keeper = keeper;

    /// <summary>The current session. Replaced (<see cref="UseSession"/>) when the old one expires.</summary>
    public KeeperClient Keeper => _keeper;

    /// <summary>Switches every later operation to a new session; returns the old client for the caller to close.</summary>
    public KeeperClient UseSession(KeeperClient client) => Interlocked.Exchange(ref _keeper, client);

    public async Task EnsurePersistentPathsAsync(CancellationToken ct = default)
    {
        foreach (string path in ZkPaths.Persistent) await Keeper.EnsurePathAsync(path, ct);
    }

    /// <summary>The cluster id from /cluster/id, created (22 base64 characters, as Kafka's) if this is a new cluster.</summary>
    public async Task<string> GetOrCreateClusterIdAsync(CancellationToken ct = default)
    {
        while (true)
        {
            try
            {
                return ZkData.ParseClusterId((await Keeper.GetDataAsync(ZkPaths.ClusterId, cancellationToken: ct)).Data);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
            }
            string id = ZkData.TopicIdText(ZkData.NewTopicId());
            try
            {
                await Keeper.CreateAsync(ZkPaths.ClusterId, ZkData.ClusterIdJson(id), cancellationToken: ct);
                return id;
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
            {
                // Another broker made it first: read theirs.
            }
        }
    }

    /// <summary>Registers this broker as the ephemeral /brokers/ids/N; see <see cref="CreateEphemeralCheckedAsync"/>.</summary>
    public Task RegisterBrokerAsync(BrokerInfo broker, TimeSpan waitForStale, CancellationToken ct = default) =>
        CreateEphemeralCheckedAsync(ZkPaths.Broker(broker.Id), ZkData.BrokerRegistration(broker, time), waitForStale, ct);

    /// <summary>
    /// Creates an ephemeral node owned by this session. If it exists and is ours (a reattached session), that is
    /// fine. If another session owns it, it may be a dead process whose session has not expired yet (kill -9), so
    /// wait up to <paramref name="waitForStale"/> for it to go; a live owner (a second broker with the same id) makes
    /// this fail, as in Kafka.
    /// </summary>
    public async Task CreateEphemeralCheckedAsync(string path, byte[] data, TimeSpan waitForStale, CancellationToken ct = default)
    {
        var deadline = time.GetUtcNow() + waitForStale;
        bool logged = false;
        while (true)
        {
            try
            {
                await Keeper.CreateAsync(path, data, mode: CreateMode.Ephemeral, cancellationToken: ct);
                return;
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
            {
            }
            var gone = new KeeperWatch();
            var stat = await Keeper.ExistsAsync(path, gone, ct);
            if (stat is null) continue;
            if (stat.Value.EphemeralOwner == Keeper.SessionId)
            {
                await Keeper.SetDataAsync(path, data, cancellationToken: ct);
                return;
            }
            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
                throw new InvalidOperationException(
                    $"{path} is held by another live session (0x{stat.Value.EphemeralOwner:x}): is another broker running with the same id?");
            if (!logged)
            {
                log.LogWarning("{Path} is still held by session 0x{Owner:x}; waiting up to {Seconds:F0}s for that session to expire",
                    path, stat.Value.EphemeralOwner, left.TotalSeconds);
                logged = true;
            }
            try
            {
                await gone.Fired.WaitAsync(left, time, ct);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    /// <summary>
    /// Tries to become the controller: creates the ephemeral /controller for this session. False if another session
    /// (a live controller, or a dead one whose session has not expired yet) holds it.
    /// </summary>
    public async Task<bool> TryCreateControllerAsync(int brokerId, CancellationToken ct = default)
    {
        try
        {
            await Keeper.CreateAsync(ZkPaths.Controller, ZkData.ControllerJson(brokerId, time), mode: CreateMode.Ephemeral, cancellationToken: ct);
            return true;
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
        {
            return false;
        }
    }

    /// <summary>Who holds /controller (its broker id and the session owning the node), watching it; null if nobody does.</summary>
    public async Task<(int BrokerId, long Owner)?> GetControllerAsync(Action<WatchedEvent>? watcher, CancellationToken ct = default)
    {
        try
        {
            var node = await Keeper.GetDataAsync(ZkPaths.Controller, watcher, ct);
            return (ZkData.ParseControllerId(node.Data), node.Stat.EphemeralOwner);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            // Gone meanwhile: watch for the next holder instead.
            if (await Keeper.ExistsAsync(ZkPaths.Controller, watcher, ct) is null) return null;
            return await GetControllerAsync(watcher, ct);
        }
    }

    /// <summary>
    /// Bumps /controller_epoch by a conditional update (as a new controller does) and returns the new epoch and the
    /// node's version: every later controller write checks that version, so a controller that another one replaced
    /// cannot write (see <see cref="ControllerMovedException"/>).
    /// </summary>
    public async Task<(int Epoch, int ZkVersion)> IncrementControllerEpochAsync(CancellationToken ct = default)
    {
        while (true)
        {
            try
            {
                var current = await Keeper.GetDataAsync(ZkPaths.ControllerEpoch, cancellationToken: ct);
                int epoch = ZkData.ParseControllerEpoch(current.Data) + 1;
                var stat = await Keeper.SetDataAsync(ZkPaths.ControllerEpoch, ZkData.ControllerEpoch(epoch), current.Stat.Version, ct);
                return (epoch, stat.Version);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                try
                {
                    var created = await Keeper.CreateWithStatAsync(ZkPaths.ControllerEpoch, ZkData.ControllerEpoch(1), cancellationToken: ct);
                    return (1, created.Stat.Version);
                }
                catch (KeeperException again) when (again.Code == ErrorCode.NodeExists)
                {
                }
            }
            catch (KeeperException e) when (e.Code == ErrorCode.BadVersion)
            {
            }
        }
    }

    /// <summary>The registered brokers, by id; <paramref name="watcher"/> hears of the next broker that comes or goes.</summary>
    public async Task<List<BrokerInfo>> GetBrokersAsync(Action<WatchedEvent>? watcher = null, CancellationToken ct = default)
    {
        var brokers = new List<BrokerInfo>();
        foreach (string child in await Keeper.GetChildrenAsync(ZkPaths.BrokerIds, watcher, ct))
        {
            if (!int.TryParse(child, out int id)) continue;
            try
            {
                var node = await Keeper.GetDataAsync(ZkPaths.Broker(id), cancellationToken: ct);
                brokers.Add(ZkData.ParseBroker(id, node.Data) with { Epoch = node.Stat.Czxid });
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
            }
        }
        brokers.Sort((a, b) => a.Id.CompareTo(b.Id));
        return brokers;
    }

    public Task<IReadOnlyList<string>> GetTopicNamesAsync(Action<WatchedEvent>? watcher = null, CancellationToken ct = default) =>
        Keeper.GetChildrenAsync(ZkPaths.BrokerTopics, watcher, ct);

    public Task<IReadOnlyList<string>> GetTopicsMarkedForDeletionAsync(Action<WatchedEvent>? watcher = null, CancellationToken ct = default) =>
        Keeper.GetChildrenAsync(ZkPaths.DeleteTopics, watcher, ct);

    /// <summary>
    /// Reads one topic: its assignment, the state of each partition (absent where the controller has not written one
    /// yet) and its config overrides. Null if the topic does not exist. <paramref name="watcher"/> watches the topic's
    /// node, <paramref name="stateWatcher"/> each partition's state node (its creation if it has none yet).
    /// </summary>
    public async Task<(Guid? Id, SortedDictionary<int, int[]> Assignment, Dictionary<int, PartitionState> States, Dictionary<string, string> Configs,
        (Dictionary<int, int[]> Adding, Dictionary<int, int[]> Removing) Reassignments)?>
        ReadTopicAsync(string topic, Action<WatchedEvent>? watcher = null, Action<WatchedEvent>? stateWatcher = null, CancellationToken ct = default)
    {
        NodeData data;
        try
        {
            data = await Keeper.GetDataAsync(ZkPaths.Topic(topic), watcher, ct);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return null;
        }
        var (id, assignment) = ZkData.ParseTopicAssignment(topic, data.Data);
        var states = new Dictionary<int, PartitionState>();
        foreach (int p in assignment.Keys)
            if (await ReadPartitionStateAsync(topic, p, stateWatcher, ct) is { } state) states[p] = state;
        return (id, assignment, states, await ReadTopicConfigAsync(topic, ct), ZkData.ParseReassignments(topic, data.Data));
    }

    /// <summary>
    /// A partition's state, null if it has none; with a watcher, that hears of its next change, or of its creation.
    /// </summary>
    public async Task<PartitionState?> ReadPartitionStateAsync(string topic, int partition, Action<WatchedEvent>? watcher, CancellationToken ct = default)
    {
        string path = ZkPaths.PartitionState(topic, partition);
        while (true)
        {
            try
            {
                var state = await Keeper.GetDataAsync(path, watcher, ct);
                return ZkData.ParsePartitionState(state.Data, $"{topic}-{partition} state") with { ZkVersion = state.Stat.Version };
            }
            catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
            {
                if (watcher is null || await Keeper.ExistsAsync(path, watcher, ct) is null) return null;
                // Created meanwhile: read it.
            }
        }
    }

    public Task<Dictionary<string, string>> ReadTopicConfigAsync(string topic, CancellationToken ct = default) =>
        ReadEntityConfigAsync(ZkPaths.TopicConfig(topic), $"config of {topic}", ct);

    /// <summary>Every topic's config overrides (read before the logs are opened, so each is recovered with its own settings).</summary>
    /// <summary>Watches a topic's node for changes (more partitions written by another tool).</summary>
    public Task WatchTopicAsync(string topic, Action<WatchedEvent> watcher, CancellationToken ct = default) =>
        Keeper.ExistsAsync(ZkPaths.Topic(topic), watcher, ct);

    public async Task<Dictionary<string, Dictionary<string, string>>> ReadAllTopicConfigsAsync(CancellationToken ct = default)
    {
        var result = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (string topic in await Keeper.GetChildrenAsync(ZkPaths.ConfigTopics, cancellationToken: ct))
            result[topic] = await ReadTopicConfigAsync(topic, ct);
        return result;
    }

    /// <summary>
    /// Creates a topic in one transaction: its config, its assignment with the topic id, and (from the controller,
    /// <paramref name="fence"/> being its /controller_epoch version) every partition's state. Without a fence only the
    /// config and assignment are written, as Kafka's admin tools do; the controller then elects the leaders. Throws
    /// KeeperException(NodeExists) if the topic exists.
    /// </summary>
    public async Task CreateTopicAsync(TopicInfo topic, int? fence, CancellationToken ct = default)
    {
        // A config left over from a half-finished deletion would fail the create below.
        if (await Keeper.ExistsAsync(ZkPaths.Topic(topic.Name), cancellationToken: ct) is null)
            await Keeper.DeleteIfExistsAsync(ZkPaths.TopicConfig(topic.Name), ct);
        var ops = Fenced(fence);
        ops.Add(Op.Create(ZkPaths.TopicConfig(topic.Name), ZkData.EntityConfig(topic.Configs)));
        ops.Add(Op.Create(ZkPaths.Topic(topic.Name), ZkData.TopicAssignment(topic.Id, topic.Partitions)));
        if (fence is not null)
        {
            ops.Add(Op.Create(ZkPaths.TopicPartitions(topic.Name), null));
            ops.AddRange(PartitionOps(topic.Name, topic.Partitions));
        }
        await MultiAsync(ops, ct);
    }

    /// <summary>Adds partitions (from the controller, fenced by its /controller_epoch version): the new assignment and the new partitions' states.</summary>
    public async Task AddPartitionsAsync(TopicInfo updated, IEnumerable<PartitionInfo> added, int fence, CancellationToken ct = default)
    {
        var ops = Fenced(fence);
        ops.Add(Op.SetData(ZkPaths.Topic(updated.Name), ZkData.TopicAssignment(updated.Id, updated.Partitions)));
        if (await Keeper.ExistsAsync(ZkPaths.TopicPartitions(updated.Name), cancellationToken: ct) is null)
            ops.Add(Op.Create(ZkPaths.TopicPartitions(updated.Name), null));
        ops.AddRange(PartitionOps(updated.Name, added));
        await MultiAsync(ops, ct);
    }

    private static IEnumerable<Op> PartitionOps(string topic, IEnumerable<PartitionInfo> partitions)
    {
        foreach (var p in partitions)
        {
            yield return Op.Create(ZkPaths.Partition(topic, p.Index), null);
            yield return Op.Create(ZkPaths.PartitionState(topic, p.Index), ZkData.PartitionStateJson(p.State));
        }
    }

    /// <summary>
    /// Writes a partition's state (leader, leader epoch, ISR), creating the node if needed; from the controller only,
    /// fenced by its /controller_epoch version.
    /// </summary>
    public async Task SetPartitionStateAsync(string topic, int partition, PartitionState state, int fence, CancellationToken ct = default,
        int expectedVersion = -1)
    {
        byte[] data = ZkData.PartitionStateJson(state);
        var ops = Fenced(fence);
        if (expectedVersion >= 0 || await Keeper.ExistsAsync(ZkPaths.PartitionState(topic, partition), cancellationToken: ct) is not null)
        {
            ops.Add(Op.SetData(ZkPaths.PartitionState(topic, partition), data, expectedVersion));
        }
        else
        {
            if (await Keeper.ExistsAsync(ZkPaths.TopicPartitions(topic), cancellationToken: ct) is null)
                ops.Add(Op.Create(ZkPaths.TopicPartitions(topic), null));
            if (await Keeper.ExistsAsync(ZkPaths.Partition(topic, partition), cancellationToken: ct) is null)
                ops.Add(Op.Create(ZkPaths.Partition(topic, partition), null));
            ops.Add(Op.Create(ZkPaths.PartitionState(topic, partition), data));
        }
        await MultiAsync(ops, ct);
    }

    /// <summary>
    /// A leader's ISR change (Kafka's ZooKeeper-mode Partition.updateIsr): the state node rewritten only if it is still
    /// at <paramref name="expectedVersion"/>, so a leader that the controller replaced meanwhile (or a stale view)
    /// cannot overwrite the controller's decision. Returns the node's new version, or null if it had moved on.
    /// </summary>
    public async Task<int?> UpdateIsrAsync(string topic, int partition, PartitionState state, int expectedVersion, CancellationToken ct = default)
    {
        try
        {
            var stat = await Keeper.SetDataAsync(ZkPaths.PartitionState(topic, partition), ZkData.PartitionStateJson(state), expectedVersion, ct);
            return stat.Version;
        }
        catch (KeeperException e) when (e.Code is ErrorCode.BadVersion or ErrorCode.NoNode)
        {
            return null;
        }
    }

    /// <summary>
    /// A reassignment step (from the controller, fenced): the topic's node as <paramref name="topic"/> has it, and,
    /// when given, one partition's new state, conditional on the version the controller decided it from.
    /// </summary>
    public async Task WriteReassignmentAsync(TopicInfo topic, int fence, (int Partition, PartitionState State, int ExpectedVersion)? state,
        CancellationToken ct = default)
    {
        var ops = Fenced(fence);
        ops.Add(Op.SetData(ZkPaths.Topic(topic.Name), ZkData.TopicAssignment(topic.Id, topic.Partitions)));
        if (state is { } s)
            ops.Add(Op.SetData(ZkPaths.PartitionState(topic.Name, s.Partition), ZkData.PartitionStateJson(s.State), s.ExpectedVersion));
        await MultiAsync(ops, ct);
    }

    /// <summary>The first op of every controller write: /controller_epoch is still at the version this controller set.</summary>
    private static List<Op> Fenced(int? fence) => fence is { } version ? [Op.Check(ZkPaths.ControllerEpoch, version)] : [];

    /// <summary>Writes a topic id into an assignment that has none (topics created by tools that predate topic ids).</summary>
    public Task SetTopicAssignmentAsync(string topic, Guid id, IReadOnlyDictionary<int, int[]> assignment, CancellationToken ct = default) =>
        Keeper.SetDataAsync(ZkPaths.Topic(topic), ZkData.TopicAssignment(id, assignment), cancellationToken: ct);

    /// <summary>Marks a topic for deletion, as Kafka's admin tools do; the controller then deletes it.</summary>
    public async Task MarkTopicForDeletionAsync(string topic, CancellationToken ct = default)
    {
        try
        {
            await Keeper.CreateAsync(ZkPaths.DeleteTopic(topic), null, cancellationToken: ct);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NodeExists)
        {
        }
    }

    /// <summary>The controller's last step of a deletion: the topic's nodes and config, then the deletion marker.</summary>
    public async Task RemoveTopicAsync(string topic, CancellationToken ct = default)
    {
        await Keeper.DeleteRecursiveAsync(ZkPaths.Topic(topic), ct);
        await Keeper.DeleteIfExistsAsync(ZkPaths.TopicConfig(topic), ct);
        await Keeper.DeleteIfExistsAsync(ZkPaths.DeleteTopic(topic), ct);
    }

    /// <summary>Replaces a topic's config overrides and leaves a change notification for every broker.</summary>
    public Task SetTopicConfigAsync(string topic, IReadOnlyDictionary<string, string> configs, CancellationToken ct = default) =>
        SetEntityConfigAsync("topics", topic, configs, ct);

    /// <summary>
    /// Replaces the dynamic configs of a broker (<paramref name="entity"/> is its id) or of every broker
    /// (<see cref="ZkPaths.DefaultBrokerEntity"/>) in /config/brokers, and leaves a change notification.
    /// </summary>
    public Task SetBrokerConfigAsync(string entity, IReadOnlyDictionary<string, string> configs, CancellationToken ct = default) =>
        SetEntityConfigAsync("brokers", entity, configs, ct);

    /// <summary>The dynamic configs stored for a broker id or for the cluster default (empty if none).</summary>
    public Task<Dictionary<string, string>> ReadBrokerConfigAsync(string entity, CancellationToken ct = default) =>
        ReadEntityConfigAsync($"{ZkPaths.ConfigBrokers}/{entity}", $"config of broker {entity}", ct);

    private async Task SetEntityConfigAsync(string type, string name, IReadOnlyDictionary<string, string> configs, CancellationToken ct)
    {
        string path = $"{ZkPaths.Config}/{type}/{name}";
        byte[] data = ZkData.EntityConfig(configs);
        try
        {
            await Keeper.SetDataAsync(path, data, cancellationToken: ct);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            await Keeper.CreateAsync(path, data, cancellationToken: ct);
        }
        await Keeper.CreateAsync(ZkPaths.ConfigChangePrefix, ZkData.ConfigChange($"{type}/{name}"),
            mode: CreateMode.PersistentSequential, cancellationToken: ct);
    }

    private async Task<Dictionary<string, string>> ReadEntityConfigAsync(string path, string what, CancellationToken ct)
    {
        try
        {
            return ZkData.ParseEntityConfig((await Keeper.GetDataAsync(path, cancellationToken: ct)).Data, what);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }
    }

    /// <summary>The names of the /config/changes notifications (config_change_NNNNNNNNNN), watching for new ones.</summary>
    public Task<IReadOnlyList<string>> GetConfigChangesAsync(Action<WatchedEvent>? watcher, CancellationToken ct = default) =>
        Keeper.GetChildrenAsync(ZkPaths.ConfigChanges, watcher, ct);

    /// <summary>One notification: its contents and when it was made; null if it is gone.</summary>
    public async Task<NodeData?> ReadConfigChangeAsync(string name, CancellationToken ct = default)
    {
        try
        {
            return await Keeper.GetDataAsync($"{ZkPaths.ConfigChanges}/{name}", cancellationToken: ct);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.NoNode)
        {
            return null;
        }
    }

    public Task DeleteConfigChangeAsync(string name, CancellationToken ct = default) =>
        Keeper.DeleteIfExistsAsync($"{ZkPaths.ConfigChanges}/{name}", ct);

    /// <summary>
    /// Reserves the next block of <paramref name="size"/> producer ids in /latest_producer_id_block (compare-and-set
    /// on the node's version, so brokers never share ids). Returns the first id of the block.
    /// </summary>
    public async Task<long> AllocateProducerIdBlockAsync(int brokerId, int size, CancellationToken ct = default)
    {
        await Keeper.EnsurePathAsync(ZkPaths.LatestProducerIdBlock, ct);
        while (true)
        {
            var current = await Keeper.GetDataAsync(ZkPaths.LatestProducerIdBlock, cancellationToken: ct);
            long start = ZkData.ParseProducerIdBlockEnd(current.Data) + 1;
            try
            {
                await Keeper.SetDataAsync(ZkPaths.LatestProducerIdBlock, ZkData.ProducerIdBlock(brokerId, start, start + size - 1),
                    current.Stat.Version, ct);
                return start;
            }
            catch (KeeperException e) when (e.Code == ErrorCode.BadVersion)
            {
                // Another broker took a block meanwhile: take the next one.
            }
        }
    }

    private async Task MultiAsync(List<Op> ops, CancellationToken ct)
    {
        try
        {
            await Keeper.MultiAsync(ops, ct);
        }
        catch (KeeperMultiException e)
        {
            string? path = e.FailedIndex >= 0 && e.FailedIndex < ops.Count ? ops[e.FailedIndex].Path : e.Path;
            if (e.Code == ErrorCode.BadVersion && path == ZkPaths.ControllerEpoch) throw new ControllerMovedException();
            throw new KeeperException(e.Code, path);
        }
    }
}
