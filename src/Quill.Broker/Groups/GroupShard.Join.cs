using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Groups;

internal sealed partial class GroupShard
{
    /// <summary>
    /// JoinGroup. Completes when the member's join round completes (all members rejoined, or the rebalance
    /// timeout or initial delay ran out), or at once for errors, MEMBER_ID_REQUIRED, and answers that need no
    /// round (a follower rejoining a stable group unchanged, a static member replacing its old id).
    /// </summary>
    public Task<JoinGroupResult> JoinAsync(JoinGroupRequest request)
    {
        if (NotActiveError() is { } notActive) return Done(request.MemberId, notActive);
        if (string.IsNullOrEmpty(request.GroupId)) return Done(request.MemberId, KafkaError.InvalidGroupId);
        if (request.SessionTimeoutMs < Options.MinSessionTimeoutMs || request.SessionTimeoutMs > Options.MaxSessionTimeoutMs)
            return Done(request.MemberId, KafkaError.InvalidSessionTimeout);

        bool isUnknownMember = request.MemberId.Length == 0;
        long now = NowMs;
        ClassicGroup? group = isUnknownMember ? GetOrCreateGroup(request.GroupId, now) : FindGroup(request.GroupId);
        if (group is null) return Done(request.MemberId, KafkaError.UnknownMemberId);

        // A deleted group: the client retries and gets a new one.
        if (group.Is(GroupState.Dead)) return Done(request.MemberId, KafkaError.CoordinatorNotAvailable);
        if (!group.SupportsProtocols(request.ProtocolType, request.Protocols))
        {
            RemoveIfUnused(group, now);
            return Done(request.MemberId, KafkaError.InconsistentGroupProtocol);
        }
        if (isUnknownMember && group.Size + group.PendingMembers.Count >= Options.MaxGroupSize && !group.HasStaticMember(request.GroupInstanceId))
            return Done(request.MemberId, KafkaError.GroupMaxSizeReached);
        return isUnknownMember ? JoinNewMember(group, request, now) : JoinKnownMember(group, request, now);
    }

    private static Task<JoinGroupResult> Done(string memberId, KafkaError error) =>
        Task.FromResult(JoinGroupResult.Failed(memberId, error));

    private Task<JoinGroupResult> JoinNewMember(ClassicGroup group, JoinGroupRequest request, long now)
    {
        string memberId = (request.GroupInstanceId ?? request.ClientId) + "-" + Guid.NewGuid().ToString();
        if (request.GroupInstanceId is { } instanceId) return JoinStaticMember(group, request, instanceId, memberId, now);
        if (request.RequireKnownMemberId)
        {
            // KIP-394: the member must come back with this id, so that a client retrying a lost response
            // does not leave defunct members behind. It counts as pending until then.
            group.AddPendingMember(memberId, now + request.SessionTimeoutMs);
            return Done(memberId, KafkaError.MemberIdRequired);
        }
        return AddMemberAndRebalance(group, request, memberId, now);
    }

    private Task<JoinGroupResult> JoinKnownMember(ClassicGroup group, JoinGroupRequest request, long now)
    {
        string memberId = request.MemberId;
        if (group.IsPending(memberId))
        {
            // Only dynamic members are ever pending.
            if (request.GroupInstanceId is not null) return Done(memberId, KafkaError.UnknownMemberId);
            return AddMemberAndRebalance(group, request, memberId, now);
        }
        if (group.IsStaticMemberFenced(request.GroupInstanceId, memberId)) return Done(memberId, KafkaError.FencedInstanceId);
        if (!group.Has(memberId) || (request.GroupInstanceId is not null && !group.HasStaticMember(request.GroupInstanceId)))
            return Done(memberId, KafkaError.UnknownMemberId);

        var member = group.Get(memberId);
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return UpdateMemberAndRebalance(group, member, request, now);
            case GroupState.CompletingRebalance:
                // Same metadata: the member probably lost its JoinGroup response; give it the generation again.
                if (member.Matches(request.Protocols)) return Task.FromResult(CurrentGenerationResult(group, member, forLeader: true));
                return UpdateMemberAndRebalance(group, member, request, now);
            case GroupState.Stable:
                // The leader rejoining forces a rebalance (how it reacts to metadata changes the coordinator
                // cannot see); a follower only when its subscription changed.
                if (group.IsLeader(memberId) || !member.Matches(request.Protocols)) return UpdateMemberAndRebalance(group, member, request, now);
                return Task.FromResult(CurrentGenerationResult(group, member, forLeader: false));
            default:
                return Done(memberId, KafkaError.UnknownMemberId);
        }
    }

    /// <summary>
    /// A static member (group.instance.id) joining without a member id: new, or the same instance coming back.
    /// Coming back, it gets a new member id, takes the old member's place and assignment, and the old id is
    /// fenced (FENCED_INSTANCE_ID) — all without a rebalance, unless its protocols change the group's choice.
    /// </summary>
    private Task<JoinGroupResult> JoinStaticMember(ClassicGroup group, JoinGroupRequest request, string instanceId, string memberId, long now)
    {
        if (group.StaticMemberId(instanceId) is not { } oldMemberId) return AddMemberAndRebalance(group, request, memberId, now);

        var old = group.Get(oldMemberId);
        old.CompleteJoin(JoinGroupResult.Failed(oldMemberId, KafkaError.FencedInstanceId));
        old.CompleteSync(SyncGroupResult.Failed(KafkaError.FencedInstanceId));
        var member = new GroupMember(memberId, instanceId, request.ClientId, request.ClientHost)
        {
            SessionTimeoutMs = old.SessionTimeoutMs,
            RebalanceTimeoutMs = old.RebalanceTimeoutMs,
            ProtocolType = old.ProtocolType,
            Protocols = old.Protocols,
            JoinedAtMs = now,
            LastHeartbeatMs = now,
        };
        group.ReplaceStaticMember(old, member);
        WatchSession(group, member);
        _logger.LogInformation("Static member {Instance} of group {Group} rejoined as {Member}, fencing {Old}", LogSafe.Text(instanceId), LogSafe.Text(group.GroupId), LogSafe.Text(memberId), LogSafe.Text(oldMemberId));

        switch (group.State)
        {
            case GroupState.Stable:
                string? selectedBefore = group.ProtocolName;
                var oldProtocols = member.Protocols;
                UpdateMember(member, request);
                WatchSession(group, member); // its session timeout may be shorter now
                if (group.SelectProtocol() != selectedBefore)
                    return UpdateMemberAndRebalance(group, member, request, now);
                var error = StoreGroup(group, now);
                if (error != KafkaError.None)
                {
                    member.Protocols = oldProtocols;
                    return Done(memberId, error);
                }
                // KIP-814: a returning static leader learns it leads (so it keeps watching metadata) but must not
                // reassign; clients before JoinGroup v9 cannot be told to skip, so they get no member list.
                bool isLeader = group.IsLeader(memberId);
                return Task.FromResult(new JoinGroupResult(KafkaError.None, memberId, group.GenerationId, group.ProtocolType,
                    group.ProtocolName, group.LeaderId ?? "", SkipAssignment: isLeader,
                    isLeader ? group.CurrentMemberMetadata() : []));
            case GroupState.CompletingRebalance:
            case GroupState.PreparingRebalance:
                // The leader may already be assigning to the old id: run the round again.
                return UpdateMemberAndRebalance(group, member, request, now);
            default:
                return Done(memberId, KafkaError.UnknownMemberId);
        }
    }

    private Task<JoinGroupResult> AddMemberAndRebalance(ClassicGroup group, JoinGroupRequest request, string memberId, long now)
    {
        var member = new GroupMember(memberId, request.GroupInstanceId, request.ClientId, request.ClientHost)
        {
            ProtocolType = request.ProtocolType,
            IsNew = true,
            JoinedAtMs = now,
            LastHeartbeatMs = now,
        };
        UpdateMember(member, request);
        var waiter = member.JoinWaiter = GroupMember.NewWaiter<JoinGroupResult>();
        // A new group still in its initial delay waits longer for every member that arrives.
        if (group.Is(GroupState.PreparingRebalance) && group.GenerationId == 0) group.NewMemberAdded = true;
        group.Add(member);
        WatchSession(group, member);
        MaybePrepareRebalance(group, now, $"member {memberId} joined");
        return waiter.Task;
    }

    private Task<JoinGroupResult> UpdateMemberAndRebalance(ClassicGroup group, GroupMember member, JoinGroupRequest request, long now)
    {
        UpdateMember(member, request);
        // A second JoinGroup while the first still waits replaces it; the first is told to retry.
        member.CompleteJoin(JoinGroupResult.Failed(member.MemberId, KafkaError.RebalanceInProgress));
        var waiter = member.JoinWaiter = GroupMember.NewWaiter<JoinGroupResult>();
        MaybePrepareRebalance(group, now, $"member {member.MemberId} rejoined");
        return waiter.Task;
    }

    private static void UpdateMember(GroupMember member, JoinGroupRequest request)
    {
        member.Protocols = request.Protocols;
        member.SessionTimeoutMs = request.SessionTimeoutMs;
        member.RebalanceTimeoutMs = request.RebalanceTimeoutMs;
        member.ClientId = request.ClientId;
        member.ClientHost = request.ClientHost;
    }

    private static JoinGroupResult CurrentGenerationResult(ClassicGroup group, GroupMember member, bool forLeader) =>
        new(KafkaError.None, member.MemberId, group.GenerationId, group.ProtocolType, group.ProtocolName, group.LeaderId ?? "",
            SkipAssignment: false, forLeader && group.IsLeader(member.MemberId) ? group.CurrentMemberMetadata() : []);

    /// <summary>Forgets a group that a failed first join left behind with nothing in it.</summary>
    private void RemoveIfUnused(ClassicGroup group, long now)
    {
        if (group.Is(GroupState.Empty) && group.Size == 0 && group.PendingMembers.Count == 0 && group.Offsets.Count == 0 && group.GenerationId == 0
            && group.PendingTransactionalOffsets.Count == 0)
            RemoveGroup(group, now);
    }
}
