using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// OffsetCommit (8). v1 generation, member and commit timestamp; v2-4 retention time (timestamp dropped);
/// v5 drops retention; v6 leader epoch; v7 group instance id; v8 flexible; v9 same bytes, usable by the
/// KIP-848 consumer (GenerationIdOrMemberEpoch then carries the member epoch; groups here are all classic, where
/// it is the generation). Advertised up to 9, the highest in the specs checked.
/// </summary>
public static class OffsetCommitApi
{
    public static readonly MessageSchema Request = new("OffsetCommitRequest", "0-9", "8+",
        String("GroupId", "0+"),
        Int32("GenerationIdOrMemberEpoch", "1+", -1),
        String("MemberId", "1+"),
        NullableString("GroupInstanceId", "7+", "7+"),
        Int64("RetentionTimeMs", "2-4", -1),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int64("CommittedOffset", "0+"),
                Int32("CommittedLeaderEpoch", "6+", -1),
                Int64("CommitTimestamp", "1", -1),
                String("CommittedMetadata", "0+").Nullable("0+"))));

    public static readonly MessageSchema Response = new("OffsetCommitResponse", "0-9", "8+",
        Int32("ThrottleTimeMs", "3+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int16("ErrorCode", "0+"))));
}
