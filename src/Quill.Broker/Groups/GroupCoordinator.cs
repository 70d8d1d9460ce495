// How BrokerServer creates and starts the coordinator:
//
//   var groups = new GroupCoordinator(new PartitionOffsetsLog(logs), new GroupCoordinatorOptions { ... },
//       timeProvider, loggerFactory.CreateLogger<GroupCoordinator>());
//   await groups.StartAsync();                       // every shard replays its partition of __consumer_offsets
//   handlers.AddRange(GroupHandlers.Create(groups, brokerIdentity, partitionExists: (topic, p) => ...));
//   ...
//   await groups.DisposeAsync();                     // on shutdown, before the LogManager is disposed
//
// Until StartAsync returns, group APIs answer COORDINATOR_LOAD_IN_PROGRESS (FindCoordinator: COORDINATOR_NOT_AVAILABLE).

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Groups;

/// <summary>
/// The group coordinator of the classic protocol (Kafka's GroupCoordinator over its CoordinatorRuntime): one
/// <see cref="GroupShard"/> per <c>__consumer_offsets</c> partition, each owning the groups that hash to its partition
/// on its own event loop. This class only routes: a request goes to its group's shard and is answered when the shard
/// has handled it (JoinGroup and SyncGroup when their round completes). Shards load and unload one by one
/// (<see cref="LoadShardAsync"/>, <see cref="UnloadShardAsync"/>); <see cref="StartAsync"/> loads them all.
/// </summary>
public sealed class GroupCoordinator : IAsyncDisposable
{
    private const int Created = 0, Loading = 1, Active = 2, Stopped = 3;

    private readonly GroupShard[] _shards;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile int _status = Created;

    public GroupCoordinator(IOffsetsLog offsetsLog, GroupCoordinatorOptions? options = null, TimeProvider? time = null, ILogger? logger = null)
    {
        OffsetsLog = offsetsLog;
        Options = (options ?? new GroupCoordinatorOptions()).Validate();
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _shards = new GroupShard[offsetsLog.PartitionCount];
        for (int p = 0; p < _shards.Length; p++) _shards[p] = new GroupShard(this, p, _time, _logger);
    }

    public GroupCoordinatorOptions Options { get; }
    public IOffsetsLog OffsetsLog { get; }
    /// <summary>Loaded and serving.</summary>
    public bool IsActive => _status == Active;
    /// <summary>The <c>__consumer_offsets</c> partition that holds a group.</summary>
    public int PartitionFor(string groupId) => OffsetsTopic.PartitionFor(groupId, OffsetsLog.PartitionCount);

    /// <summary>Whether the shard of a partition serves its groups.</summary>
    public bool IsShardLoaded(int partition) => _shards[partition].IsLoaded;

    /// <summary>The error every group API answers while the coordinator as a whole is not serving, or null.</summary>
    internal KafkaError? NotActiveError() => _status switch
    {
        Active => null,
        Created or Loading => KafkaError.CoordinatorLoadInProgress,
        _ => KafkaError.CoordinatorNotAvailable,
    };

    /// <summary>
    /// Loads every shard, or those <paramref name="isLocal"/> names (the partitions this broker leads), each
    /// replaying its partition, in parallel; then serves. The others answer NOT_COORDINATOR until loaded.
    /// </summary>
    public async Task StartAsync(Func<int, bool>? isLocal = null)
    {
        if (Interlocked.CompareExchange(ref _status, Loading, Created) != Created)
            throw new InvalidOperationException("the group coordinator was already started");
        var started = _time.GetTimestamp();
        var loaded = await Task.WhenAll(_shards.Where(s => isLocal?.Invoke(s.Partition) ?? true).Select(s => s.LoadAsync())).ConfigureAwait(false);
        _status = Active;
        _logger.LogInformation("Group coordinator loaded {Groups} groups and {Offsets} committed offsets from {Partitions} partitions of {Topic} in {Elapsed} ms",
            loaded.Sum(l => l.Groups), loaded.Sum(l => l.Offsets), loaded.Length, OffsetsTopic.Name, (int)_time.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Starts serving the groups of one partition (its leadership arrived): replays it first.</summary>
    public Task LoadShardAsync(int partition) => _shards[partition].LoadAsync();

    /// <summary>Stops serving the groups of one partition (its leadership left): they answer NOT_COORDINATOR.</summary>
    public Task UnloadShardAsync(int partition) => _shards[partition].UnloadAsync();

    /// <summary>Completes once every shard has run what was posted to it, and what that posted (tests on a fake clock).</summary>
    internal Task WhenIdleAsync() => Task.WhenAll(_shards.Select(s => s.Loop.WhenIdleAsync()));

    /// <summary>Runs a request on its group's shard.</summary>
    private Task<T> OnShard<T>(string groupId, Func<GroupShard, T> work) => OnShard(_shards[PartitionFor(groupId)], work);

    private static Task<T> OnShard<T>(GroupShard shard, Func<GroupShard, T> work)
    {
        var answer = shard.Loop.Run(() => work(shard));
        // Once stopped, the loop has ended and the shard is unloaded: nothing can touch it any more, and every API
        // answers from the coordinator's status alone (its first check).
        return answer.IsFaulted && answer.Exception!.InnerException is ObjectDisposedException ? Task.FromResult(work(shard)) : answer;
    }

    public Task<JoinGroupResult> JoinAsync(JoinGroupRequest request) =>
        OnShard(request.GroupId, s => s.JoinAsync(request)).Unwrap();

    public Task<SyncGroupResult> SyncAsync(string groupId, int generationId, string memberId, string? groupInstanceId,
        string? protocolType, string? protocolName, IReadOnlyDictionary<string, byte[]> assignments) =>
        OnShard(groupId, s => s.SyncAsync(groupId, generationId, memberId, groupInstanceId, protocolType, protocolName, assignments)).Unwrap();

    public Task<KafkaError> HeartbeatAsync(string groupId, string memberId, string? groupInstanceId, int generationId) =>
        OnShard(groupId, s => s.Heartbeat(groupId, memberId, groupInstanceId, generationId));

    public Task<LeaveGroupResult> LeaveAsync(string groupId, IReadOnlyList<MemberIdentity> members) =>
        OnShard(groupId, s => s.Leave(groupId, members));

    public Task<KafkaError[]> CommitOffsetsAsync(string groupId, string memberId, string? groupInstanceId, int generationId,
        IReadOnlyList<OffsetCommitEntry> offsets, Func<string, int, bool>? partitionExists = null) =>
        OnShard(groupId, s => s.CommitOffsets(groupId, memberId, groupInstanceId, generationId, offsets, partitionExists)).Unwrap();

    /// <summary>
    /// Right after a shard wrote a commit (on its loop): what waits for the write to reach the followers, as Kafka
    /// answers a commit only once the high watermark covers it (offsets.commit.required.acks -1).
    /// </summary>
    private (KafkaError[] Errors, Task<KafkaError>? Replicated) Replicating(GroupShard shard, KafkaError[] errors) =>
        (errors, errors.Contains(KafkaError.None) && shard.IsLoaded ? OffsetsLog.WhenReplicatedAsync(shard.Partition) : null);

    /// <summary>
    /// The commit's answers once its write is replicated; if that fails, what Kafka answers for the append's error
    /// (NOT_COORDINATOR when leadership moved, COORDINATOR_NOT_AVAILABLE for too few in-sync replicas).
    /// </summary>
    private static async Task<KafkaError[]> Replicated(Task<(KafkaError[] Errors, Task<KafkaError>? Replicated)> commit)
    {
        var (errors, replicated) = await commit.ConfigureAwait(false);
        if (replicated is null) return errors;
        var error = CoordinatorErrorOf(await replicated.ConfigureAwait(false));
        if (error != KafkaError.None)
            for (int i = 0; i < errors.Length; i++)
                if (errors[i] == KafkaError.None) errors[i] = error;
        return errors;
    }

    /// <summary>What a coordinator answers when replicating its record failed with <paramref name="replicated"/>, as Kafka maps it.</summary>
    internal static KafkaError CoordinatorErrorOf(KafkaError replicated) => replicated switch
    {
        KafkaError.None => KafkaError.None,
        KafkaError.NotLeaderOrFollower or KafkaError.KafkaStorageError => KafkaError.NotCoordinator,
        KafkaError.NotEnoughReplicas or KafkaError.NotEnoughReplicasAfterAppend or KafkaError.UnknownTopicOrPartition => KafkaError.CoordinatorNotAvailable,
        var other => other,
    };

    public Task<OffsetFetchResult> FetchOffsetsAsync(string groupId, IReadOnlyList<TopicPartitions>? topics, bool requireStable = false) =>
        OnShard(groupId, s => s.FetchOffsets(groupId, topics, requireStable));

    public Task<GroupDescription> DescribeGroupAsync(string groupId) => OnShard(groupId, s => s.DescribeGroup(groupId));

    public Task<OffsetDeleteResult> DeleteOffsetsAsync(string groupId, IReadOnlyList<(string Topic, int Partition)> partitions) =>
        OnShard(groupId, s => s.DeleteOffsets(groupId, partitions));

    public Task<KafkaError[]> CommitTransactionalOffsetsAsync(string groupId, long producerId, short producerEpoch, string memberId,
        string? groupInstanceId, int generationId, IReadOnlyList<OffsetCommitEntry> offsets, Func<string, int, bool>? partitionExists = null) =>
        Replicated(OnShard(groupId, s => Replicating(s, s.CommitTransactionalOffsets(groupId, producerId, producerEpoch, memberId, groupInstanceId,
            generationId, offsets, partitionExists))));

    /// <summary>DeleteGroups: each group on its own shard; the answers in the order asked.</summary>
    public async Task<IReadOnlyList<(string GroupId, KafkaError Error)>> DeleteGroupsAsync(IReadOnlyList<string> groupIds) =>
        await Task.WhenAll(groupIds.Select(id => OnShard(id, s => (id, s.DeleteGroup(id))))).ConfigureAwait(false);

    /// <summary>ListGroups: the live groups of every shard that serves, sorted by id.</summary>
    public async Task<(KafkaError Error, IReadOnlyList<GroupOverview> Groups)> ListGroupsAsync(IReadOnlyCollection<string>? states = null)
    {
        if (NotActiveError() is { } notActive) return (notActive, []);
        var answers = await Task.WhenAll(_shards.Select(s => OnShard(s, shard => shard.ListGroups(states)))).ConfigureAwait(false);
        // A shard that does not serve (unloaded) has no groups to list here.
        var list = answers.Where(a => a.Error == KafkaError.None).SelectMany(a => a.Groups).ToList();
        list.Sort((a, b) => string.CompareOrdinal(a.GroupId, b.GroupId));
        return (KafkaError.None, list);
    }

    /// <summary>
    /// The transaction coordinator wrote a COMMIT or ABORT marker for <paramref name="producerId"/> into
    /// <c>__consumer_offsets</c> partition <paramref name="offsetsPartition"/>: its shard keeps or drops the offsets.
    /// </summary>
    public Task CompleteTransactionAsync(long producerId, int offsetsPartition, bool commit) =>
        OnShard(_shards[offsetsPartition], s =>
        {
            s.CompleteTransaction(producerId, commit);
            return true;
        });

    /// <summary>Stops serving: every shard unloads (requests still waiting in a rebalance are answered NOT_COORDINATOR).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _status, Stopped) == Stopped) return;
        foreach (var shard in _shards) await shard.DisposeAsync().ConfigureAwait(false);
    }
}
