using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// OffsetDelete (47, KIP-496): one version, not flexible. (A flexible v1 with a new request header is in Kafka's
/// trunk as an unstable version; not advertised.)
/// </summary>
public static class OffsetDeleteApi
{
    public static readonly MessageSchema Request = new("OffsetDeleteRequest", "0", "none",
        String("GroupId", "0+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"))));

    public static readonly MessageSchema Response = new("OffsetDeleteResponse", "0", "none",
        Int16("ErrorCode", "0+"),
        Int32("ThrottleTimeMs", "0+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int16("ErrorCode", "0+"))));
}
