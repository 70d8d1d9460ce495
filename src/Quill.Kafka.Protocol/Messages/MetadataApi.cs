using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// Metadata (3). In v0 an empty topic list means all topics; from v1 a null list does. v4 auto-creation,
/// v8 authorized operations, v9 flexible, v10 topic ids, v11 drops cluster authorized operations (now in
/// DescribeCluster), v12 lookups by id (nullable names), v13 a top-level error code. Not advertised beyond 13
/// (what librdkafka 2.x uses).
/// </summary>
public static class MetadataApi
{
    public static readonly MessageSchema Request = new("MetadataRequest", "0-13", "9+",
        Array("Topics", "0+",
            Uuid("TopicId", "10+"),
            String("Name", "0+").Nullable("10+")).Nullable("1+"),
        Bool("AllowAutoTopicCreation", "4+", true),
        Bool("IncludeClusterAuthorizedOperations", "8-10"),
        Bool("IncludeTopicAuthorizedOperations", "8+"));

    public static readonly MessageSchema Response = new("MetadataResponse", "0-13", "9+",
        Int32("ThrottleTimeMs", "3+"),
        Array("Brokers", "0+",
            Int32("NodeId", "0+"),
            String("Host", "0+"),
            Int32("Port", "0+"),
            NullableString("Rack", "1+", "1+")),
        NullableString("ClusterId", "2+", "2+"),
        Int32("ControllerId", "1+", -1),
        Array("Topics", "0+",
            Int16("ErrorCode", "0+"),
            String("Name", "0+").Nullable("12+"),
            Uuid("TopicId", "10+"),
            Bool("IsInternal", "1+"),
            Array("Partitions", "0+",
                Int16("ErrorCode", "0+"),
                Int32("PartitionIndex", "0+"),
                Int32("LeaderId", "0+"),
                Int32("LeaderEpoch", "7+", -1),
                Int32Array("ReplicaNodes", "0+"),
                Int32Array("IsrNodes", "0+"),
                Int32Array("OfflineReplicas", "5+")),
            Int32("TopicAuthorizedOperations", "8+", int.MinValue)),
        Int32("ClusterAuthorizedOperations", "8-10", int.MinValue),
        Int16("ErrorCode", "13+"));
}
