using Microsoft.Extensions.Logging;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

/// <summary>
/// The groups of one <c>__consumer_offsets</c> partition (a coordinator shard, as in Kafka's CoordinatorRuntime):
/// membership and rebalances, static membership, committed offsets and their records in that partition. Everything
/// here runs on the shard's <see cref="EventLoop"/> — requests, timer events, load and unload — so no state needs a
/// lock. Appends to the partition are made on the loop too (as Kafka's coordinator thread writes to its local log)
/// and a change is applied only once its record is written; a slow write holds up this shard's requests, never
/// another shard's. The shard loads (replays its partition) and unloads on its own, as leadership of its partition
/// will move once brokers replicate.
/// </summary>
internal sealed partial class GroupShard : IAsyncDisposable
{
    private readonly Dictionary<string, ClassicGroup> _groups = new(StringComparer.Ordinal);
    private readonly GroupCoordinator _coordinator;
    private readonly IOffsetsLog _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ITimer? _retentionTimer;
    /// <summary>Numbers offset commits in the order they are appended (see <see cref="ClassicGroup.AppliedCommits"/>).</summary>
    private long _commitSequence;
    private bool _loaded;

    public GroupShard(GroupCoordinator coordinator, int partition, TimeProvider time, ILogger logger)
    {
        _coordinator = coordinator;
        _log = coordinator.OffsetsLog;
        Partition = partition;
        _time = time;
        _logger = logger;
        Loop = new EventLoop($"group coordinator shard {OffsetsTopic.Name}-{partition}", logger);
    }

    public int Partition { get; }
    public EventLoop Loop { get; }
    /// <summary>Whether the shard serves its groups (read off the loop only for information).</summary>
    public bool IsLoaded => Volatile.Read(ref _loaded);
    private GroupCoordinatorOptions Options => _coordinator.Options;
    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Replays the partition (groups and offsets come back), then serves it. Returns what was loaded.</summary>
    public Task<(int Groups, int Offsets)> LoadAsync() => Loop.Run(() =>
    {
        if (_loaded) return (_groups.Count, _groups.Values.Sum(g => g.Offsets.Count));
        var loaded = GroupLoader.Load(_log, Partition, GetOrCreateGroup, NowMs, _logger);
        Volatile.Write(ref _loaded, true);
        // Loaded members start a fresh session now (the loader's clock); they expire unless they heartbeat.
        foreach (var group in _groups.Values)
            foreach (var member in group.Members) WatchSession(group, member);
        var interval = TimeSpan.FromMilliseconds(Options.OffsetsRetentionCheckIntervalMs);
        using (ExecutionContext.SuppressFlow())
            _retentionTimer = _time.CreateTimer(_ =>
            {
                long firedAt = NowMs;
                Loop.Post(() => CheckRetention(firedAt));
            }, null, interval, interval);
        return loaded;
    });

    /// <summary>
    /// Stops serving: timers stop, requests still waiting in a rebalance are answered NOT_COORDINATOR, and the state
    /// is dropped (the partition holds it; <see cref="LoadAsync"/> brings it back).
    /// </summary>
    public Task UnloadAsync() => Loop.Run(() =>
    {
        Volatile.Write(ref _loaded, false);
        _retentionTimer?.Dispose();
        _retentionTimer = null;
        foreach (var group in _groups.Values)
        {
            group.Timer?.Dispose();
            foreach (var member in group.Members)
            {
                member.SessionTimer?.Dispose();
                member.CompleteJoin(JoinGroupResult.Failed(member.MemberId, KafkaError.NotCoordinator));
                member.CompleteSync(SyncGroupResult.Failed(KafkaError.NotCoordinator));
            }
        }
        _groups.Clear();
        return true;
    });

    /// <summary>The error every group API answers while this shard does not serve, or null when it does.</summary>
    private KafkaError? NotActiveError() => _coordinator.NotActiveError() ?? (_loaded ? null : KafkaError.NotCoordinator);

    /// <summary>
    /// False for a group object from before an unload: a timer that was already firing then may post its event after
    /// the shard has loaded again, and must not act on (or store) the old object over the reloaded state.
    /// </summary>
    private bool IsCurrent(ClassicGroup group) => _groups.TryGetValue(group.GroupId, out var current) && ReferenceEquals(current, group);

    /// <summary>The group's timer fired at <paramref name="now"/>: its join round, sync round or a pending member may be due.</summary>
    private void OnGroupTimer(ClassicGroup group, long now)
    {
        if (NotActiveError() is not null || !IsCurrent(group)) return;
        group.Timer!.Fired();
        if (group.Is(GroupState.Dead)) return;
        CheckGroupDeadlines(group, now);
        WatchGroup(group);
    }

    /// <summary>A member's session timer fired at <paramref name="now"/>: it goes if its session really ended, else the timer is armed for the new deadline.</summary>
    private void OnSessionTimer(ClassicGroup group, GroupMember member, long now)
    {
        if (NotActiveError() is not null || !IsCurrent(group)) return;
        member.SessionTimer?.Fired();
        if (group.Is(GroupState.Dead) || !group.Has(member.MemberId) || !ReferenceEquals(group.Get(member.MemberId), member)) return;
        if (now < SessionDeadline(member))
        {
            WatchSession(group, member);
            return;
        }
        RemoveMemberAndUpdateGroup(group, member, now,
            member.IsAwaitingJoin ? "its join request timed out" : $"no heartbeat within session timeout {member.SessionTimeoutMs} ms");
    }

    /// <summary>
    /// When a member's session ends: a member waiting in a join round cannot heartbeat and stays (a new one only
    /// for the new-member join timeout); one waiting for its assignment stays (the sync deadline covers it);
    /// otherwise its last heartbeat plus its session timeout.
    /// </summary>
    private long SessionDeadline(GroupMember member)
    {
        if (member.IsAwaitingJoin) return member.IsNew ? member.JoinedAtMs + Options.NewMemberJoinTimeoutMs : long.MaxValue;
        if (member.IsAwaitingSync) return long.MaxValue;
        return member.LastHeartbeatMs + member.SessionTimeoutMs;
    }

    /// <summary>
    /// Arms the member's timer by its session deadline. Call it (on the loop) whenever that deadline
    /// may have moved earlier: the member joined, stopped waiting for a round, or changed its session timeout.
    /// A later deadline (a heartbeat) needs no call: the timer fires at the old one, finds the session alive and re-arms.
    /// </summary>
    private void WatchSession(ClassicGroup group, GroupMember member)
    {
        member.SessionTimer ??= new DeadlineTimer(_time, now => Loop.Post(() => OnSessionTimer(group, member, now)));
        member.SessionTimer.ArmBy(SessionDeadline(member));
    }

    /// <summary>Arms the group's timer by its next own deadline.</summary>
    private static void WatchGroup(ClassicGroup group)
    {
        if (group.Timer is not { } timer) return;
        if (group.Is(GroupState.PreparingRebalance)) timer.ArmBy(group.JoinDeadlineMs);
        if (group.State is GroupState.CompletingRebalance or GroupState.Stable) timer.ArmBy(group.SyncDeadlineMs);
        foreach (long expiresAt in group.PendingMembers.Values) timer.ArmBy(expiresAt);
    }

    /// <summary>Offset retention, every offsets.retention.check.interval.ms (runs on the loop, so never twice at once).</summary>
    private void CheckRetention(long now)
    {
        if (NotActiveError() is not null) return;
        ExpireOffsets(now);
    }

    private ClassicGroup GetOrCreateGroup(string groupId, long now)
    {
        if (_groups.TryGetValue(groupId, out var existing)) return existing;
        var group = new ClassicGroup(groupId, now);
        group.Timer = new DeadlineTimer(_time, now => Loop.Post(() => OnGroupTimer(group, now)));
        _groups[groupId] = group;
        return group;
    }

    private ClassicGroup? FindGroup(string groupId) => _groups.GetValueOrDefault(groupId);

    /// <summary>Marks a group Dead and forgets it. Requests that still hold it see Dead and retry.</summary>
    private void RemoveGroup(ClassicGroup group, long now)
    {
        group.TransitionTo(GroupState.Dead, now);
        group.Timer?.Dispose();
        foreach (var member in group.Members) member.SessionTimer?.Dispose();
        if (_groups.TryGetValue(group.GroupId, out var current) && ReferenceEquals(current, group)) _groups.Remove(group.GroupId);
    }

    // ---- writing to __consumer_offsets ----

    /// <summary>Appends records to the shard's partition (on the loop, no lock held); the Kafka error of a failure, else None.</summary>
    private KafkaError Append(ClassicGroup group, RecordBatchBuilder records)
    {
        try
        {
            _log.Append(Partition, records.Build());
            return KafkaError.None;
        }
        catch (LogException e)
        {
            _logger.LogWarning("Could not write to {Topic} for group {Group}: {Error} {Message}", OffsetsTopic.Name, LogSafe.Text(group.GroupId), e.Error, LogSafe.Text(e.Message));
            return e.Error;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
        {
            _logger.LogError(e, "Could not write to {Topic} for group {Group}", OffsetsTopic.Name, LogSafe.Text(group.GroupId));
            return KafkaError.KafkaStorageError;
        }
    }

    /// <summary>
    /// Writes the group's metadata (generation, protocol, leader, members with their subscription and assignment).
    /// Returns the error to give the members, as Kafka maps a failed write.
    /// </summary>
    private KafkaError StoreGroup(ClassicGroup group, long now, IReadOnlyDictionary<string, byte[]>? assignments = null)
    {
        var members = new List<StoredMember>(group.Size);
        foreach (var m in group.Members)
        {
            members.Add(new StoredMember(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, m.RebalanceTimeoutMs,
                m.SessionTimeoutMs, m.MetadataFor(group.ProtocolName), assignments?.GetValueOrDefault(m.MemberId) ?? m.Assignment));
        }
        var stored = new StoredGroup(group.ProtocolType ?? "", group.GenerationId, group.ProtocolName, group.LeaderId,
            group.CurrentStateTimestampMs, members);
        var records = new RecordBatchBuilder().Add(now, OffsetsRecords.GroupKey(group.GroupId), OffsetsRecords.GroupValue(stored));
        return Append(group, records) switch
        {
            KafkaError.None => KafkaError.None,
            KafkaError.MessageTooLarge or KafkaError.RecordListTooLarge or KafkaError.InvalidRecord => KafkaError.UnknownServerError,
            _ => KafkaError.NotCoordinator,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await UnloadAsync().ConfigureAwait(false);
        await Loop.DisposeAsync().ConfigureAwait(false);
    }
}
