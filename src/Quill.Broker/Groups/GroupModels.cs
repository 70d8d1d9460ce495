using Quill.Kafka.Protocol;

namespace Quill.Broker.Groups;

// The coordinator's inputs and outputs, free of wire details: handlers translate requests into these and
// these into responses. Byte arrays here are owned copies, never slices of a request buffer.

/// <summary>One protocol a member supports (for consumers: an assignor name and its subscription).</summary>
public readonly record struct GroupProtocol(string Name, byte[] Metadata);

/// <summary>A JoinGroup request.</summary>
/// <param name="RequireKnownMemberId">JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED and an id.</param>
public sealed record JoinGroupRequest(
    string GroupId,
    string MemberId,
    string? GroupInstanceId,
    string ProtocolType,
    IReadOnlyList<GroupProtocol> Protocols,
    int SessionTimeoutMs,
    int RebalanceTimeoutMs,
    string ClientId,
    string ClientHost,
    bool RequireKnownMemberId,
    string? Reason = null);

/// <summary>A member as the leader sees it in its JoinGroup response.</summary>
public readonly record struct JoinGroupMember(string MemberId, string? GroupInstanceId, byte[] Metadata);

/// <summary>A JoinGroup answer. <see cref="Members"/> is filled for the leader only.</summary>
public sealed record JoinGroupResult(
    KafkaError Error,
    string MemberId,
    int GenerationId,
    string? ProtocolType,
    string? ProtocolName,
    string LeaderId,
    bool SkipAssignment,
    IReadOnlyList<JoinGroupMember> Members)
{
    public static JoinGroupResult Failed(string memberId, KafkaError error) =>
        new(error, memberId, -1, null, null, "", false, []);
}

/// <summary>A SyncGroup answer: this member's assignment for the generation.</summary>
public sealed record SyncGroupResult(KafkaError Error, string? ProtocolType, string? ProtocolName, byte[] Assignment)
{
    public static SyncGroupResult Failed(KafkaError error) => new(error, null, null, []);
}

/// <summary>A member named in LeaveGroup (v3+ names several, by member id or group.instance.id).</summary>
public readonly record struct MemberIdentity(string MemberId, string? GroupInstanceId);

/// <summary>A LeaveGroup answer: a group-level error, then one error per member named.</summary>
public sealed record LeaveGroupResult(KafkaError Error, IReadOnlyList<(MemberIdentity Member, KafkaError Error)> Members);

/// <summary>One partition of an OffsetCommit request.</summary>
/// <param name="CommitTimestampMs">OffsetCommit v1's explicit commit time, or -1 for "now".</param>
/// <param name="RetentionTimeMs">OffsetCommit v2-4's retention time, or -1 for the broker's offsets retention.</param>
public readonly record struct OffsetCommitEntry(
    string Topic,
    int Partition,
    long Offset,
    int LeaderEpoch,
    string? Metadata,
    long CommitTimestampMs = -1,
    long RetentionTimeMs = -1);

/// <summary>A committed offset as the coordinator keeps it (Kafka's OffsetAndMetadata).</summary>
public readonly record struct CommittedOffset(long Offset, int LeaderEpoch, string Metadata, long CommitTimestampMs, long ExpireTimestampMs = -1);

/// <summary>The partitions of one topic asked for in OffsetFetch.</summary>
public readonly record struct TopicPartitions(string Topic, IReadOnlyList<int> Partitions);

/// <summary>One partition of an OffsetFetch answer: offset -1 and empty metadata when nothing is committed.</summary>
public readonly record struct FetchedOffset(string Topic, int Partition, long Offset, int LeaderEpoch, string Metadata, KafkaError Error);

/// <summary>An OffsetFetch answer for one group.</summary>
public sealed record OffsetFetchResult(KafkaError Error, IReadOnlyList<FetchedOffset> Offsets);

/// <summary>A group as ListGroups shows it.</summary>
public readonly record struct GroupOverview(string GroupId, string ProtocolType, GroupState State);

/// <summary>A member as DescribeGroups shows it; metadata and assignment are empty unless the group is Stable.</summary>
public sealed record MemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost, byte[] Metadata, byte[] Assignment);

/// <summary>A group as DescribeGroups shows it.</summary>
public sealed record GroupDescription(
    KafkaError Error,
    string GroupId,
    GroupState State,
    string ProtocolType,
    string ProtocolData,
    IReadOnlyList<MemberDescription> Members);
