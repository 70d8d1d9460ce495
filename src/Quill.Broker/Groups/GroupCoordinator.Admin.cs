using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

// ListGroups, DescribeGroups, DeleteGroups.
public sealed partial class GroupCoordinator
{
    /// <summary>ListGroups: every live group, optionally only those in <paramref name="states"/> (matched case-insensitively).</summary>
    public (KafkaError Error, IReadOnlyList<GroupOverview> Groups) ListGroups(IReadOnlyCollection<string>? states = null)
    {
        if (NotActiveError() is { } notActive) return (notActive, []);
        var list = new List<GroupOverview>();
        foreach (var group in _groups.Values)
        {
            lock (group)
            {
                if (group.Is(GroupState.Dead)) continue;
                if (states is { Count: > 0 } && !states.Contains(group.State.ToString(), StringComparer.OrdinalIgnoreCase)) continue;
                list.Add(new GroupOverview(group.GroupId, group.ProtocolType ?? "", group.State));
            }
        }
        list.Sort((a, b) => string.CompareOrdinal(a.GroupId, b.GroupId));
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
        lock (group)
        {
            bool stable = group.Is(GroupState.Stable);
            var members = group.Members.Select(m => new MemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                stable ? m.MetadataFor(group.ProtocolName) : [], stable ? m.Assignment : [])).ToList();
            return new GroupDescription(KafkaError.None, groupId, group.State, group.ProtocolType ?? "",
                stable ? group.ProtocolName ?? "" : "", members);
        }
    }

    /// <summary>
    /// DeleteGroups: only empty groups go (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND for unknown ones);
    /// their offsets and metadata become tombstones in the log.
    /// </summary>
    public IReadOnlyList<(string GroupId, KafkaError Error)> DeleteGroups(IReadOnlyList<string> groupIds)
    {
        var results = new List<(string, KafkaError)>(groupIds.Count);
        foreach (string groupId in groupIds) results.Add((groupId, DeleteGroup(groupId)));
        return results;
    }

    private KafkaError DeleteGroup(string groupId)
    {
        if (NotActiveError() is { } notActive) return notActive;
        if (FindGroup(groupId) is not { } group) return KafkaError.GroupIdNotFound;
        lock (group)
        {
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
}
