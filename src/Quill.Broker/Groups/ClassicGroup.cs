namespace Quill.Broker.Groups;

/// <summary>
/// One group of the classic protocol (Kafka's GroupMetadata): its state, generation, members, selected protocol,
/// leader, the deadlines of the rebalance in progress, and its committed offsets. Only its shard's event loop reads
/// or changes it; this class only keeps the books.
/// </summary>
internal sealed class ClassicGroup(string groupId, long nowMs)
{
    private readonly List<GroupMember> _members = [];
    private readonly Dictionary<string, GroupMember> _byId = [];
    private readonly Dictionary<string, string> _staticMembers = []; // group.instance.id -> member id

    public string GroupId { get; } = groupId;
    public GroupState State { get; private set; } = GroupState.Empty;
    public long CurrentStateTimestampMs { get; set; } = nowMs;
    public int GenerationId { get; set; }
    /// <summary>The protocol type ("consumer", "connect", ...) fixed by the first member; null for an offsets-only group.</summary>
    public string? ProtocolType { get; set; }
    public string? ProtocolName { get; set; }
    public string? LeaderId { get; set; }

    /// <summary>Members in join order; the first is the next leader when the leader goes.</summary>
    public IReadOnlyList<GroupMember> Members => _members;
    public int Size => _members.Count;

    /// <summary>Members told MEMBER_ID_REQUIRED that have not joined with their id yet, with when they expire.</summary>
    public Dictionary<string, long> PendingMembers { get; } = [];
    /// <summary>Fires at the group's own deadlines: the join round, the sync round, pending members. Null only in tests of the books.</summary>
    public DeadlineTimer? Timer { get; set; }
    /// <summary>Members of the current generation that have not sent SyncGroup yet.</summary>
    public HashSet<string> PendingSync { get; } = [];

    // The join round in progress: its deadline, and the initial-delay bookkeeping of a new group.
    public long JoinDeadlineMs
    {
        get;
        set { field = value; Timer?.ArmBy(value); }
    } = long.MaxValue;
    public bool InInitialDelay { get; set; }
    public long InitialDelayRemainingMs { get; set; }
    public bool NewMemberAdded { get; set; }
    /// <summary>When members still in <see cref="PendingSync"/> are dropped.</summary>
    public long SyncDeadlineMs
    {
        get;
        set { field = value; Timer?.ArmBy(value); }
    } = long.MaxValue;

    public Dictionary<(string Topic, int Partition), CommittedOffset> Offsets { get; } = [];
    /// <summary>
    /// Per partition, the sequence number (<see cref="GroupShard"/>'s, in append order) of the commit whose offset
    /// <see cref="Offsets"/> holds: commits are applied once replicated, and an older one whose replication ends
    /// later must not replace a newer one.
    /// </summary>
    public Dictionary<(string Topic, int Partition), long> AppliedCommits { get; } = [];
    /// <summary>Offsets committed inside a transaction not yet ended (TxnOffsetCommit), by producer id.</summary>
    public Dictionary<long, Dictionary<(string Topic, int Partition), CommittedOffset>> PendingTransactionalOffsets { get; } = [];

    public bool Is(GroupState state) => State == state;
    public bool Has(string memberId) => _byId.ContainsKey(memberId);
    public GroupMember Get(string memberId) => _byId[memberId];
    public bool IsLeader(string memberId) => LeaderId == memberId;
    public bool HasStaticMember(string? instanceId) => instanceId is not null && _staticMembers.ContainsKey(instanceId);
    public string? StaticMemberId(string instanceId) => _staticMembers.GetValueOrDefault(instanceId);
    public bool IsPending(string memberId) => PendingMembers.ContainsKey(memberId);

    public void AddPendingMember(string memberId, long expiresAtMs)
    {
        PendingMembers[memberId] = expiresAtMs;
        Timer?.ArmBy(expiresAtMs);
    }

    /// <summary>A request names a group.instance.id that now belongs to another member id: the sender was replaced.</summary>
    public bool IsStaticMemberFenced(string? instanceId, string memberId) =>
        instanceId is not null && _staticMembers.TryGetValue(instanceId, out var current) && current != memberId;

    public bool CanRebalance => State is GroupState.Stable or GroupState.CompletingRebalance or GroupState.Empty;

    public int RebalanceTimeoutMs
    {
        get
        {
            int max = 0;
            foreach (var m in _members) max = Math.Max(max, m.RebalanceTimeoutMs);
            return max;
        }
    }

    /// <summary>Every member has sent JoinGroup in this round and no MEMBER_ID_REQUIRED member is still out.</summary>
    public bool HasAllMembersJoined
    {
        get
        {
            foreach (var m in _members)
                if (!m.IsAwaitingJoin) return false;
            return PendingMembers.Count == 0;
        }
    }

    public void TransitionTo(GroupState state, long nowMs)
    {
        State = state;
        CurrentStateTimestampMs = nowMs;
    }

    public void Add(GroupMember member)
    {
        if (_members.Count == 0) ProtocolType = member.ProtocolType;
        _members.Add(member);
        _byId[member.MemberId] = member;
        if (member.GroupInstanceId is { } instanceId) _staticMembers[instanceId] = member.MemberId;
        PendingMembers.Remove(member.MemberId);
        LeaderId ??= member.MemberId;
    }

    public void Remove(GroupMember member)
    {
        member.SessionTimer?.Dispose();
        _members.Remove(member);
        _byId.Remove(member.MemberId);
        PendingSync.Remove(member.MemberId);
        if (member.GroupInstanceId is { } instanceId && _staticMembers.GetValueOrDefault(instanceId) == member.MemberId)
            _staticMembers.Remove(instanceId);
        if (LeaderId == member.MemberId) LeaderId = _members.Count > 0 ? _members[0].MemberId : null;
    }

    /// <summary>
    /// A static member rejoined without its member id: <paramref name="replacement"/> takes the old member's
    /// place (position, leadership, assignment, pending sync); the old id is fenced from now on.
    /// </summary>
    public void ReplaceStaticMember(GroupMember old, GroupMember replacement)
    {
        old.SessionTimer?.Dispose();
        int index = _members.IndexOf(old);
        _members[index] = replacement;
        _byId.Remove(old.MemberId);
        _byId[replacement.MemberId] = replacement;
        _staticMembers[replacement.GroupInstanceId!] = replacement.MemberId;
        if (PendingSync.Remove(old.MemberId)) PendingSync.Add(replacement.MemberId);
        if (LeaderId == old.MemberId) LeaderId = replacement.MemberId;
        replacement.Assignment = old.Assignment;
    }

    /// <summary>
    /// Whether a member with this protocol type and these protocols may join: anything non-empty joins an empty
    /// group; otherwise the type must match and at least one protocol must be supported by every member.
    /// </summary>
    public bool SupportsProtocols(string protocolType, IReadOnlyList<GroupProtocol> protocols)
    {
        if (Is(GroupState.Empty)) return protocolType.Length > 0 && protocols.Count > 0;
        if (ProtocolType != protocolType) return false;
        foreach (var p in protocols)
        {
            bool all = true;
            foreach (var m in _members)
                if (!m.Supports(p.Name)) { all = false; break; }
            if (all) return true;
        }
        return false;
    }

    /// <summary>
    /// The protocol for the next generation: among the protocols every member supports, each member votes for
    /// its most preferred one and the most votes win (ties go to the earliest-preferred by the first voter).
    /// </summary>
    public string SelectProtocol()
    {
        var candidates = new List<string>();
        foreach (var p in _members[0].Protocols)
        {
            bool all = true;
            foreach (var m in _members)
                if (!m.Supports(p.Name)) { all = false; break; }
            if (all) candidates.Add(p.Name);
        }
        if (candidates.Count == 0) throw new InvalidOperationException($"group {GroupId} has no protocol every member supports");
        var votes = new Dictionary<string, int>();
        foreach (var m in _members)
            if (m.Vote(candidates) is { } vote) votes[vote] = votes.GetValueOrDefault(vote) + 1;
        string best = candidates[0];
        foreach (var c in candidates)
            if (votes.GetValueOrDefault(c) > votes.GetValueOrDefault(best)) best = c;
        return best;
    }

    /// <summary>
    /// If the leader has not rejoined this round, hands leadership to a member that has. False when nobody has
    /// rejoined (only static members that did not come back remain).
    /// </summary>
    public bool MaybeElectNewJoinedLeader()
    {
        if (LeaderId is null) return false;
        if (_byId.TryGetValue(LeaderId, out var leader) && leader.IsAwaitingJoin) return true;
        foreach (var m in _members)
            if (m.IsAwaitingJoin) { LeaderId = m.MemberId; return true; }
        return false;
    }

    public List<JoinGroupMember> CurrentMemberMetadata()
    {
        var list = new List<JoinGroupMember>(_members.Count);
        foreach (var m in _members) list.Add(new JoinGroupMember(m.MemberId, m.GroupInstanceId, m.MetadataFor(ProtocolName)));
        return list;
    }

    public override string ToString() => $"group {GroupId} ({State}, generation {GenerationId}, {_members.Count} members)";
}
