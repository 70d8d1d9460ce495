// How BrokerServer creates and starts the coordinator (core helper: this is the whole integration):
//
//   var offsetsLog = PartitionOffsetsLog.Open(logManager, partitionCount);   // offsets.topic.num.partitions (default 50;
//                                                                           // a single broker may use fewer, e.g. 1-10)
//   var groups = new GroupCoordinator(offsetsLog, new GroupCoordinatorOptions
//   {
//       InitialRebalanceDelayMs = ...,   // group.initial.rebalance.delay.ms (Kafka default 3000; its sample server.properties says 0)
//       // MinSessionTimeoutMs, MaxSessionTimeoutMs, OffsetsRetentionMs, ... from server.properties when set
//   }, timeProvider, loggerFactory.CreateLogger<GroupCoordinator>());
//   groups.Start();                                  // replays __consumer_offsets, then arms its deadline timers
//   handlers.AddRange(GroupHandlers.Create(groups, brokerIdentity, partitionExists: (topic, p) => ...));
//   ...
//   groups.Dispose();                                // on shutdown, before the LogManager is disposed
//
// Until Start() returns, group APIs answer COORDINATOR_LOAD_IN_PROGRESS (FindCoordinator: COORDINATOR_NOT_AVAILABLE).
// Metadata should list __consumer_offsets (offsetsLog.PartitionCount partitions) with IsInternal = true.

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

/// <summary>
/// The group coordinator of the classic protocol (Kafka's GroupCoordinator and GroupMetadataManager): group
/// membership and rebalances (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), static membership, committed offsets,
/// and their durability in <c>__consumer_offsets</c>. Thread-safe: each group is owned by its lock (the group
/// object). Deadlines run on timers of the <see cref="TimeProvider"/>, each at its own time as Kafka's purgatory
/// does: one per member for its session, one per group for its join round (rebalance timeout, initial delay),
/// sync round and pending members, and one periodic timer for offset retention. Waiting JoinGroup/SyncGroup
/// requests are tasks completed when their round completes.
/// </summary>
public sealed partial class GroupCoordinator : IDisposable
{
    private const int Created = 0, Loading = 1, Active = 2, Stopped = 3;

    private readonly ConcurrentDictionary<string, ClassicGroup> _groups = new();
    private readonly IOffsetsLog _log;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _retentionLock = new();
    private ITimer? _retentionTimer;
    private volatile int _status = Created;

    public GroupCoordinator(IOffsetsLog offsetsLog, GroupCoordinatorOptions? options = null, TimeProvider? time = null, ILogger? logger = null)
    {
        _log = offsetsLog;
        Options = (options ?? new GroupCoordinatorOptions()).Validate();
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    public GroupCoordinatorOptions Options { get; }
    public IOffsetsLog OffsetsLog => _log;
    /// <summary>Loaded and serving.</summary>
    public bool IsActive => _status == Active;
    /// <summary>The <c>__consumer_offsets</c> partition that holds a group.</summary>
    public int PartitionFor(string groupId) => OffsetsTopic.PartitionFor(groupId, _log.PartitionCount);

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Replays <c>__consumer_offsets</c> (groups and offsets come back), then starts the deadline timers.</summary>
    public void Start()
    {
        if (Interlocked.CompareExchange(ref _status, Loading, Created) != Created)
            throw new InvalidOperationException("the group coordinator was already started");
        var started = _time.GetTimestamp();
        var (groups, offsets) = GroupLoader.Load(_log, this, _groups, NowMs, _logger);
        _status = Active;
        // Loaded members start a fresh session now (the loader's clock); they expire unless they heartbeat.
        foreach (var group in _groups.Values)
        {
            lock (group)
                foreach (var member in group.Members) WatchSession(group, member);
        }
        _logger.LogInformation("Group coordinator loaded {Groups} groups and {Offsets} committed offsets from {Partitions} partitions of {Topic} in {Elapsed} ms",
            groups, offsets, _log.PartitionCount, OffsetsTopic.Name, (int)_time.GetElapsedTime(started).TotalMilliseconds);
        var interval = TimeSpan.FromMilliseconds(Options.OffsetsRetentionCheckIntervalMs);
        _retentionTimer = _time.CreateTimer(_ => CheckRetention(), null, interval, interval);
    }

    /// <summary>Stops the timers; requests still waiting in a rebalance are answered NOT_COORDINATOR.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _status, Stopped) == Stopped) return;
        _retentionTimer?.Dispose();
        foreach (var group in _groups.Values)
        {
            lock (group)
            {
                group.Timer?.Dispose();
                foreach (var member in group.Members)
                {
                    member.SessionTimer?.Dispose();
                    member.CompleteJoin(JoinGroupResult.Failed(member.MemberId, KafkaError.NotCoordinator));
                    member.CompleteSync(SyncGroupResult.Failed(KafkaError.NotCoordinator));
                }
            }
        }
    }

    /// <summary>The error every group API answers while the coordinator is not serving, or null when it is.</summary>
    private KafkaError? NotActiveError() => _status switch
    {
        Active => null,
        Created or Loading => KafkaError.CoordinatorLoadInProgress,
        _ => KafkaError.CoordinatorNotAvailable,
    };

    /// <summary>The group's timer fired: its join round, sync round or a pending member may be due.</summary>
    private void OnGroupTimer(ClassicGroup group)
    {
        if (_status != Active) return;
        try
        {
            lock (group)
            {
                group.Timer!.Fired();
                if (group.Is(GroupState.Dead)) return;
                long now = NowMs;
                CheckGroupDeadlines(group, now);
                WatchGroup(group);
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Checking the deadlines of group {Group} failed", LogSafe.Text(group.GroupId));
        }
    }

    /// <summary>A member's session timer fired: it goes if its session really ended, else the timer is armed for the new deadline.</summary>
    private void OnSessionTimer(ClassicGroup group, GroupMember member)
    {
        if (_status != Active) return;
        try
        {
            lock (group)
            {
                member.SessionTimer?.Fired();
                if (group.Is(GroupState.Dead) || !group.Has(member.MemberId) || !ReferenceEquals(group.Get(member.MemberId), member)) return;
                long now = NowMs;
                if (now < SessionDeadline(member))
                {
                    WatchSession(group, member);
                    return;
                }
                RemoveMemberAndUpdateGroup(group, member, now,
                    member.IsAwaitingJoin ? "its join request timed out" : $"no heartbeat within session timeout {member.SessionTimeoutMs} ms");
            }
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Expiring member {Member} of group {Group} failed", LogSafe.Text(member.MemberId), LogSafe.Text(group.GroupId));
        }
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
    /// Arms the member's timer by its session deadline. Call it (under the group's lock) whenever that deadline
    /// may have moved earlier: the member joined, stopped waiting for a round, or changed its session timeout.
    /// A later deadline (a heartbeat) needs no call: the timer fires at the old one, finds the session alive and re-arms.
    /// </summary>
    private void WatchSession(ClassicGroup group, GroupMember member)
    {
        member.SessionTimer ??= new DeadlineTimer(_time, () => OnSessionTimer(group, member));
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

    /// <summary>Offset retention, every offsets.retention.check.interval.ms.</summary>
    private void CheckRetention()
    {
        if (_status != Active) return;
        // A slow run (a big log) must not overlap the next one.
        if (!Monitor.TryEnter(_retentionLock)) return;
        try
        {
            ExpireOffsets(NowMs);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Expiring committed offsets failed");
        }
        finally
        {
            Monitor.Exit(_retentionLock);
        }
    }

    /// <summary>Adds a group the loader rebuilt; only during <see cref="Start"/>.</summary>
    internal ClassicGroup GetOrCreateGroup(string groupId, long now) => _groups.GetOrAdd(groupId, NewGroup, now);

    private ClassicGroup NewGroup(string groupId, long now)
    {
        var group = new ClassicGroup(groupId, now);
        group.Timer = new DeadlineTimer(_time, () => OnGroupTimer(group));
        return group;
    }

    private ClassicGroup? FindGroup(string groupId) => _groups.GetValueOrDefault(groupId);

    /// <summary>Marks a group Dead and forgets it. Requests that still hold it see Dead and retry.</summary>
    private void RemoveGroup(ClassicGroup group, long now)
    {
        group.TransitionTo(GroupState.Dead, now);
        group.Timer?.Dispose();
        foreach (var member in group.Members) member.SessionTimer?.Dispose();
        _groups.TryRemove(new KeyValuePair<string, ClassicGroup>(group.GroupId, group));
    }

    // ---- writing to __consumer_offsets ----

    /// <summary>Appends records to the group's partition; the Kafka error of a failure, else None.</summary>
    private KafkaError Append(ClassicGroup group, RecordBatchBuilder records)
    {
        try
        {
            _log.Append(PartitionFor(group.GroupId), records.Build());
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
}
