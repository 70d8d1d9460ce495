using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// ListOffsets (2). v1 returns a single offset and its timestamp, v2 isolation level, v4 leader epochs,
/// v6 flexible, v7 max timestamp (KIP-734), v8 local log start (KIP-405), v9 last tiered offset (KIP-1005),
/// v10 a timeout for remote lookups (KIP-1075). With no tiered storage the broker answers -4 with the log start
/// and -5 with offset -1, as Kafka does for a topic that is not tiered.
/// </summary>
public static class ListOffsetsApi
{
    public static readonly MessageSchema Request = new("ListOffsetsRequest", "0-10", "6+",
        Int32("ReplicaId", "0+"),
        Int8("IsolationLevel", "2+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int32("CurrentLeaderEpoch", "4+", -1),
                Int64("Timestamp", "0+"),
                Int32("MaxNumOffsets", "0", 1))),
        Int32("TimeoutMs", "10+"));

    public static readonly MessageSchema Response = new("ListOffsetsResponse", "0-10", "6+",
        Int32("ThrottleTimeMs", "2+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int16("ErrorCode", "0+"),
                Int64Array("OldStyleOffsets", "0"),
                Int64("Timestamp", "1+", -1),
                Int64("Offset", "1+", -1),
                Int32("LeaderEpoch", "4+", -1))));
}
