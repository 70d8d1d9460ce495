using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

// ListGroups, DescribeGroups, DeleteGroups.
internal sealed partial class GroupShard
{
    /// <summary>ListGroups: every live group of the shard, optionally only those in <paramref name="states"/> (matched case-insensitively).</summary>
    public (KafkaError Error, List<GroupOverview> Groups) ListGroups(IReadOnlyCollection<string>? states)
    {
        if (NotActiveError() is { } notActive) return (notActive, []);
        var list = new List<GroupOverview>();
        foreach (var group in _groups.Values)
        {
            if (group.Is(GroupState.Dead)) continue;
            if (states is { Count: > 0 } && !states.Contains(group.State.ToString(), StringComparer.OrdinalIgnoreCase)) continue;
            list.Add(new GroupOverview(group.GroupId, group.ProtocolType ?? "", group.State));
        }
        return (KafkaError.None, list);
    }

    /// <summary>
    /// DescribeGroups for one group. Members' metadata (for the chosen protocol) and assignments are shown only
    /// when the group is Stable, as Kafka shows them. An unknown group is described as Dead with no error
    /// (DescribeGroups v6 turns that into GROUP_ID_NOT_FOUND in the handler).
    /// </summary>
    public GroupDescription DescribeGroup(string groupId)
    {
        if (NotActiveError() is { } notActive) return new GroupDescription(notActive, groupId, GroupState.Dead, "", "", []);
        var group = FindGroup(groupId);
        if (group is null) return new GroupDescription(KafkaError.None, groupId, GroupState.Dead, "", "", []);
        bool stable = group.Is(GroupState.Stable);
        var members = group.Members.Select(m => new MemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
            stable ? m.MetadataFor(group.ProtocolName) : [], stable ? m.Assignment : [])).ToList();
        return new GroupDescription(KafkaError.None, groupId, group.State, group.ProtocolType ?? "",
            stable ? group.ProtocolName ?? "" : "", members);
    }

    /// <summary>
    /// DeleteGroups, for one group: only an empty group goes (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND for an
    /// unknown one); its offsets and metadata become tombstones in the log.
    /// </summary>
    public KafkaError DeleteGroup(string groupId)
    {
        if (NotActiveError() is { } notActive) return notActive;
        if (FindGroup(groupId) is not { } group) return KafkaError.GroupIdNotFound;
        switch (group.State)
        {
            case GroupState.Dead:
                return KafkaError.GroupIdNotFound;
            case GroupState.Empty:
                long now = NowMs;
                var tombstones = new RecordBatchBuilder();
                foreach (var (topic, partition) in group.Offsets.Keys)
                    tombstones.Add(now, OffsetsRecords.OffsetKey(group.GroupId, topic, partition), null);
                tombstones.Add(now, OffsetsRecords.GroupKey(group.GroupId), null);
                var error = Append(group, tombstones);
                if (error != KafkaError.None) return KafkaError.NotCoordinator;
                group.Offsets.Clear();
                RemoveGroup(group, now);
                return KafkaError.None;
            default:
                return KafkaError.NonEmptyGroup;
        }
    }
}
