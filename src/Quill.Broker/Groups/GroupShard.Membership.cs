using Quill.Kafka.Protocol;

namespace Quill.Broker.Groups;

// SyncGroup, Heartbeat and LeaveGroup: the checks in Kafka's order, then what the group's state allows.
internal sealed partial class GroupShard
{
    /// <summary>
    /// SyncGroup. The leader's request carries the assignment; it is stored, then every member waiting gets its
    /// part. Followers that sync before the leader wait for it; after it, they get their part at once.
    /// </summary>
    public Task<SyncGroupResult> SyncAsync(string groupId, int generationId, string memberId, string? groupInstanceId,
        string? protocolType, string? protocolName, IReadOnlyDictionary<string, byte[]> assignments)
    {
        // While loading, the round in progress is lost anyway: send the member back to JoinGroup.
        if (NotActiveError() is { } notActive)
            return Sync(notActive == KafkaError.CoordinatorLoadInProgress ? KafkaError.RebalanceInProgress : notActive);
        if (string.IsNullOrEmpty(groupId)) return Sync(KafkaError.InvalidGroupId);
        if (FindGroup(groupId) is not { } group) return Sync(KafkaError.UnknownMemberId);

        if (group.Is(GroupState.Dead)) return Sync(KafkaError.CoordinatorNotAvailable);
        if (group.IsStaticMemberFenced(groupInstanceId, memberId)) return Sync(KafkaError.FencedInstanceId);
        if (!group.Has(memberId)) return Sync(KafkaError.UnknownMemberId);
        if (generationId != group.GenerationId) return Sync(KafkaError.IllegalGeneration);
        if (protocolType is not null && protocolType != group.ProtocolType) return Sync(KafkaError.InconsistentGroupProtocol);
        if (protocolName is not null && protocolName != group.ProtocolName) return Sync(KafkaError.InconsistentGroupProtocol);

        long now = NowMs;
        var member = group.Get(memberId);
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return Sync(KafkaError.RebalanceInProgress);
            case GroupState.CompletingRebalance:
                member.CompleteSync(SyncGroupResult.Failed(KafkaError.RebalanceInProgress)); // a duplicate replaces the first
                var waiter = member.SyncWaiter = GroupMember.NewWaiter<SyncGroupResult>();
                group.PendingSync.Remove(memberId);
                if (group.IsLeader(memberId)) CompleteSyncRound(group, assignments, now);
                return waiter.Task;
            case GroupState.Stable:
                group.PendingSync.Remove(memberId);
                member.LastHeartbeatMs = now;
                return Task.FromResult(new SyncGroupResult(KafkaError.None, group.ProtocolType, group.ProtocolName, member.Assignment));
            default:
                return Sync(KafkaError.UnknownMemberId);
        }
    }

    private static Task<SyncGroupResult> Sync(KafkaError error) => Task.FromResult(SyncGroupResult.Failed(error));

    /// <summary>
    /// Stores the leader's assignment (members it left out get an empty one) and hands it out once the record is
    /// replicated, as Kafka answers SyncGroup only after the group's record is on the ISR: an assignment the members
    /// acted on then survives the loss of this broker. Until then the group stays CompletingRebalance.
    /// </summary>
    private void CompleteSyncRound(ClassicGroup group, IReadOnlyDictionary<string, byte[]> assignments, long now)
    {
        var complete = new Dictionary<string, byte[]>(group.Size);
        foreach (var m in group.Members) complete[m.MemberId] = assignments.GetValueOrDefault(m.MemberId) ?? [];
        var error = StoreGroup(group, now, complete);
        if (error != KafkaError.None)
        {
            FailSyncRound(group, error, now);
            return;
        }
        var replicated = _log.WhenReplicatedAsync(Partition);
        if (replicated.IsCompletedSuccessfully && replicated.Result == KafkaError.None)
        {
            SetAndPropagateAssignment(group, complete, now);
            return;
        }
        int generation = group.GenerationId;
        replicated.ContinueWith(t => Loop.Post(() => OnAssignmentReplicated(group, generation, complete,
            t.IsCompletedSuccessfully ? t.Result : KafkaError.NotLeaderOrFollower)), TaskScheduler.Default);
    }

    /// <summary>The stored assignment's replication ended: hand it out, or fail the round, if the round is still the same.</summary>
    private void OnAssignmentReplicated(ClassicGroup group, int generation, Dictionary<string, byte[]> complete, KafkaError replicated)
    {
        // Unloaded (the waiters were answered NOT_COORDINATOR), or a member left or joined meanwhile and a new round
        // answered them: nothing to hand out.
        if (NotActiveError() is not null || !IsCurrent(group) || !group.Is(GroupState.CompletingRebalance) || group.GenerationId != generation) return;
        long now = NowMs;
        var error = GroupCoordinator.CoordinatorErrorOf(replicated);
        if (error != KafkaError.None)
        {
            FailSyncRound(group, error, now);
            return;
        }
        SetAndPropagateAssignment(group, complete, now);
    }

    private void FailSyncRound(ClassicGroup group, KafkaError error, long now)
    {
        ResetAndPropagateAssignmentError(group, error);
        MaybePrepareRebalance(group, now, $"storing the assignment failed with {error}");
    }

    /// <summary>Heartbeat: keeps the session alive, and tells the member when a rebalance needs it to rejoin.</summary>
    public KafkaError Heartbeat(string groupId, string memberId, string? groupInstanceId, int generationId)
    {
        if (NotActiveError() is { } notActive)
            return notActive == KafkaError.CoordinatorLoadInProgress ? KafkaError.None : notActive; // loading: answered blindly, as Kafka does
        if (string.IsNullOrEmpty(groupId)) return KafkaError.InvalidGroupId;
        if (FindGroup(groupId) is not { } group) return KafkaError.UnknownMemberId;

        if (group.Is(GroupState.Dead)) return KafkaError.CoordinatorNotAvailable;
        if (group.IsStaticMemberFenced(groupInstanceId, memberId)) return KafkaError.FencedInstanceId;
        if (!group.Has(memberId)) return KafkaError.UnknownMemberId;
        if (generationId != group.GenerationId) return KafkaError.IllegalGeneration;
        var member = group.Get(memberId);
        switch (group.State)
        {
            case GroupState.CompletingRebalance:
            case GroupState.Stable:
                member.LastHeartbeatMs = NowMs;
                return KafkaError.None;
            case GroupState.PreparingRebalance:
                member.LastHeartbeatMs = NowMs;
                return KafkaError.RebalanceInProgress;
            default:
                return KafkaError.UnknownMemberId;
        }
    }

    /// <summary>LeaveGroup: members leave by member id, or (static members, e.g. from an admin tool) by group.instance.id alone.</summary>
    public LeaveGroupResult Leave(string groupId, IReadOnlyList<MemberIdentity> members)
    {
        if (NotActiveError() is { } notActive) return new LeaveGroupResult(notActive, []);
        if (string.IsNullOrEmpty(groupId)) return new LeaveGroupResult(KafkaError.InvalidGroupId, []);
        if (FindGroup(groupId) is not { } group)
            return new LeaveGroupResult(KafkaError.None, members.Select(m => (m, KafkaError.UnknownMemberId)).ToList());

        if (group.Is(GroupState.Dead)) return new LeaveGroupResult(KafkaError.CoordinatorNotAvailable, []);
        long now = NowMs;
        var results = new List<(MemberIdentity, KafkaError)>(members.Count);
        foreach (var leaving in members)
            results.Add((leaving, LeaveOne(group, leaving, now)));
        return new LeaveGroupResult(KafkaError.None, results);
    }

    private KafkaError LeaveOne(ClassicGroup group, MemberIdentity leaving, long now)
    {
        var (memberId, instanceId) = leaving;
        if (memberId.Length > 0 && group.IsStaticMemberFenced(instanceId, memberId)) return KafkaError.FencedInstanceId;
        if (group.IsPending(memberId))
        {
            if (instanceId is not null) return KafkaError.UnknownMemberId;
            group.PendingMembers.Remove(memberId);
            TryCompleteJoin(group, now);
            return KafkaError.None;
        }
        string? id = group.HasStaticMember(instanceId) ? group.StaticMemberId(instanceId!) : group.Has(memberId) ? memberId : null;
        if (id is null) return KafkaError.UnknownMemberId;
        RemoveMemberAndUpdateGroup(group, group.Get(id), now, "it sent LeaveGroup");
        return KafkaError.None;
    }
}
