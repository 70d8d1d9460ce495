using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// OffsetFetch (9). v2 null topics means all topics and adds a top-level error; v5 leader epoch; v6
/// flexible; v7 RequireStable; v8 several groups per request; v9 member id and epoch (KIP-848, checked only for
/// consumer-protocol groups, and groups here are classic). Advertised up to 9, the highest in the specs checked.
/// </summary>
public static class OffsetFetchApi
{
    public static readonly MessageSchema Request = new("OffsetFetchRequest", "0-9", "6+",
        String("GroupId", "0-7"),
        Array("Topics", "0-7",
            String("Name", "0-7"),
            Int32Array("PartitionIndexes", "0-7")).Nullable("2-7"),
        Array("Groups", "8+",
            String("GroupId", "8+"),
            NullableString("MemberId", "9+", "9+"),
            Int32("MemberEpoch", "9+", -1),
            Array("Topics", "8+",
                String("Name", "8+"),
                Int32Array("PartitionIndexes", "8+")).Nullable("8+")),
        Bool("RequireStable", "7+"));

    public static readonly MessageSchema Response = new("OffsetFetchResponse", "0-9", "6+",
        Int32("ThrottleTimeMs", "3+"),
        Array("Topics", "0-7",
            String("Name", "0-7"),
            Array("Partitions", "0-7",
                Int32("PartitionIndex", "0-7"),
                Int64("CommittedOffset", "0-7"),
                Int32("CommittedLeaderEpoch", "5-7", -1),
                String("Metadata", "0-7").Nullable("0-7"),
                Int16("ErrorCode", "0-7"))),
        Int16("ErrorCode", "2-7"),
        Array("Groups", "8+",
            String("GroupId", "8+"),
            Array("Topics", "8+",
                String("Name", "8+"),
                Array("Partitions", "8+",
                    Int32("PartitionIndex", "8+"),
                    Int64("CommittedOffset", "8+"),
                    Int32("CommittedLeaderEpoch", "8+", -1),
                    String("Metadata", "8+").Nullable("8+"),
                    Int16("ErrorCode", "8+"))),
            Int16("ErrorCode", "8+")));
}
