using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Groups;

// The rebalance state machine and every deadline. All of it runs on the shard's loop.
internal sealed partial class GroupShard
{
    private void MaybePrepareRebalance(ClassicGroup group, long now, string reason)
    {
        if (group.CanRebalance) PrepareRebalance(group, now, reason);
        else TryCompleteJoin(group, now);
    }

    /// <summary>
    /// Starts a join round: members waiting for an assignment are told REBALANCE_IN_PROGRESS, and the round
    /// ends when everyone has rejoined or the rebalance timeout runs out. A group that was empty waits
    /// group.initial.rebalance.delay.ms instead (longer while members keep arriving), so the first generation
    /// of a group that starts several consumers at once is not a string of rebalances.
    /// </summary>
    private void PrepareRebalance(ClassicGroup group, long now, string reason)
    {
        if (group.Is(GroupState.CompletingRebalance)) ResetAndPropagateAssignmentError(group, KafkaError.RebalanceInProgress);
        group.PendingSync.Clear();
        group.SyncDeadlineMs = long.MaxValue;
        if (group.Is(GroupState.Empty))
        {
            group.InInitialDelay = true;
            group.NewMemberAdded = false;
            group.InitialDelayRemainingMs = Math.Max(group.RebalanceTimeoutMs - Options.InitialRebalanceDelayMs, 0);
            group.JoinDeadlineMs = now + Options.InitialRebalanceDelayMs;
        }
        else
        {
            group.InInitialDelay = false;
            group.JoinDeadlineMs = now + group.RebalanceTimeoutMs;
        }
        group.TransitionTo(GroupState.PreparingRebalance, now);
        _logger.LogInformation("Preparing to rebalance group {Group} in generation {Generation}: {Reason}", LogSafe.Text(group.GroupId), group.GenerationId, LogSafe.Text(reason));
        TryCompleteJoin(group, now);
    }

    /// <summary>Ends the join round if it can end now: everyone is in, or its deadline has passed.</summary>
    private void TryCompleteJoin(ClassicGroup group, long now)
    {
        if (!group.Is(GroupState.PreparingRebalance)) return;
        if (group.InInitialDelay)
        {
            if (now < group.JoinDeadlineMs) return;
            if (group.NewMemberAdded && group.InitialDelayRemainingMs > 0)
            {
                long delay = Math.Min(Options.InitialRebalanceDelayMs, group.InitialDelayRemainingMs);
                group.NewMemberAdded = false;
                group.InitialDelayRemainingMs = Math.Max(group.InitialDelayRemainingMs - delay, 0);
                group.JoinDeadlineMs = now + delay;
                return;
            }
            CompleteJoin(group, now);
            return;
        }
        if (group.HasAllMembersJoined || now >= group.JoinDeadlineMs) CompleteJoin(group, now);
    }

    /// <summary>
    /// Ends a join round: dynamic members that did not rejoin are dropped, the generation advances, a protocol is
    /// chosen, and every waiting member gets its JoinGroup answer (the leader with everyone's metadata). An
    /// emptied group is stored as Empty.
    /// </summary>
    private void CompleteJoin(ClassicGroup group, long now)
    {
        foreach (var member in group.Members.ToList())
        {
            if (member.IsAwaitingJoin || member.IsStatic) continue;
            _logger.LogInformation("Removing member {Member} of group {Group}: it did not rejoin in time", LogSafe.Text(member.MemberId), LogSafe.Text(group.GroupId));
            group.Remove(member);
        }
        group.InInitialDelay = false;
        if (!group.MaybeElectNewJoinedLeader() && group.Size > 0)
        {
            // Only static members that have not come back are left: wait for them (or their session) a while longer.
            group.JoinDeadlineMs = now + group.RebalanceTimeoutMs;
            return;
        }
        group.JoinDeadlineMs = long.MaxValue;
        group.GenerationId++;
        if (group.Size == 0)
        {
            group.ProtocolName = null;
            group.TransitionTo(GroupState.Empty, now);
            _logger.LogInformation("Group {Group} is empty in generation {Generation}", LogSafe.Text(group.GroupId), group.GenerationId);
            StoreGroup(group, now);
            return;
        }

        group.ProtocolName = group.SelectProtocol();
        group.TransitionTo(GroupState.CompletingRebalance, now);
        _logger.LogInformation("Group {Group} generation {Generation}: {Members} members, protocol {Protocol}, leader {Leader}",
            LogSafe.Text(group.GroupId), group.GenerationId, group.Size, LogSafe.Text(group.ProtocolName), LogSafe.Text(group.LeaderId));
        List<JoinGroupMember>? all = null;
        foreach (var member in group.Members)
        {
            bool isLeader = group.IsLeader(member.MemberId);
            member.CompleteJoin(new JoinGroupResult(KafkaError.None, member.MemberId, group.GenerationId, group.ProtocolType,
                group.ProtocolName, group.LeaderId ?? "", SkipAssignment: false, isLeader ? all ??= group.CurrentMemberMetadata() : []));
            member.LastHeartbeatMs = now;
            member.IsNew = false;
            group.PendingSync.Add(member.MemberId);
            WatchSession(group, member);
        }
        group.SyncDeadlineMs = now + group.RebalanceTimeoutMs;
    }

    /// <summary>The leader's assignment arrived and is stored: every member gets its part, and the group is Stable.</summary>
    private void SetAndPropagateAssignment(ClassicGroup group, IReadOnlyDictionary<string, byte[]> assignments, long now)
    {
        foreach (var member in group.Members)
        {
            member.Assignment = assignments.GetValueOrDefault(member.MemberId) ?? [];
            member.CompleteSync(new SyncGroupResult(KafkaError.None, group.ProtocolType, group.ProtocolName, member.Assignment));
            member.LastHeartbeatMs = now;
            WatchSession(group, member);
        }
        group.TransitionTo(GroupState.Stable, now);
    }

    private void ResetAndPropagateAssignmentError(ClassicGroup group, KafkaError error)
    {
        foreach (var member in group.Members)
        {
            member.Assignment = [];
            member.CompleteSync(SyncGroupResult.Failed(error));
            WatchSession(group, member); // no longer waiting: its session counts again
        }
    }

    /// <summary>A member leaves (LeaveGroup, session expiry, not syncing): answer what it waits for, then rebalance the rest.</summary>
    private void RemoveMemberAndUpdateGroup(ClassicGroup group, GroupMember member, long now, string reason)
    {
        member.CompleteJoin(JoinGroupResult.Failed(member.MemberId, KafkaError.UnknownMemberId));
        member.CompleteSync(SyncGroupResult.Failed(KafkaError.UnknownMemberId));
        group.Remove(member);
        _logger.LogInformation("Member {Member} left group {Group}: {Reason}", LogSafe.Text(member), LogSafe.Text(group.GroupId), LogSafe.Text(reason));
        switch (group.State)
        {
            case GroupState.Stable:
            case GroupState.CompletingRebalance:
                PrepareRebalance(group, now, $"member {member.MemberId} left: {reason}");
                break;
            case GroupState.PreparingRebalance:
                TryCompleteJoin(group, now);
                break;
        }
    }

    /// <summary>The group's own deadlines (members' sessions have their own timers): pending members, the join round, the sync round.</summary>
    private void CheckGroupDeadlines(ClassicGroup group, long now)
    {
        if (group.PendingMembers.Count > 0)
        {
            bool removed = false;
            foreach (var (memberId, expiresAt) in group.PendingMembers.ToList())
            {
                if (now < expiresAt) continue;
                group.PendingMembers.Remove(memberId);
                removed = true;
            }
            if (removed) TryCompleteJoin(group, now);
        }

        if (group.Is(GroupState.PreparingRebalance) && now >= group.JoinDeadlineMs) TryCompleteJoin(group, now);

        if (group.State is GroupState.CompletingRebalance or GroupState.Stable && now >= group.SyncDeadlineMs)
        {
            group.SyncDeadlineMs = long.MaxValue;
            var laggards = group.Members.Where(m => group.PendingSync.Contains(m.MemberId)).ToList();
            group.PendingSync.Clear();
            foreach (var member in laggards)
                if (group.Has(member.MemberId))
                    RemoveMemberAndUpdateGroup(group, member, now, "it did not send SyncGroup within the rebalance timeout");
        }
    }
}
