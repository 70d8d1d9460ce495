using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// InitProducerId (22): v2 flexible, v3 producer id and epoch for re-initialisation (KIP-360), v4 and v5 same bytes
/// (new error codes). Not advertised beyond 5: v6 is two-phase commit (KIP-939), and transactions are not supported.
/// </summary>
public static class InitProducerIdApi
{
    public static readonly MessageSchema Request = new("InitProducerIdRequest", "0-5", "2+",
        String("TransactionalId", "0+").Nullable("0+"),
        Int32("TransactionTimeoutMs", "0+"),
        Int64("ProducerId", "3+", -1),
        Int16("ProducerEpoch", "3+", -1));

    public static readonly MessageSchema Response = new("InitProducerIdResponse", "0-5", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "0+"),
        Int64("ProducerId", "0+", -1),
        Int16("ProducerEpoch", "0+"));
}

/// <summary>
/// OffsetForLeaderEpoch (23): v1 end offsets with epochs, v2 current leader epoch, v3 replica id, v4 flexible. Not
/// advertised beyond 4: v5 names topics by id.
/// </summary>
public static class OffsetForLeaderEpochApi
{
    public static readonly MessageSchema Request = new("OffsetForLeaderEpochRequest", "0-4", "4+",
        Int32("ReplicaId", "3+", -2),
        Array("Topics", "0+",
            String("Topic", "0+"),
            Array("Partitions", "0+",
                Int32("Partition", "0+"),
                Int32("CurrentLeaderEpoch", "2+", -1),
                Int32("LeaderEpoch", "0+"))));

    public static readonly MessageSchema Response = new("OffsetForLeaderEpochResponse", "0-4", "4+",
        Int32("ThrottleTimeMs", "2+"),
        Array("Topics", "0+",
            String("Topic", "0+"),
            Array("Partitions", "0+",
                Int16("ErrorCode", "0+"),
                Int32("Partition", "0+"),
                Int32("LeaderEpoch", "1+", -1),
                Int64("EndOffset", "0+", -1))));
}

/// <summary>DescribeCluster (60): always flexible; v1 endpoint type (1 brokers, 2 controllers), v2 fenced brokers.</summary>
public static class DescribeClusterApi
{
    public static readonly MessageSchema Request = new("DescribeClusterRequest", "0-2", "0+",
        Bool("IncludeClusterAuthorizedOperations", "0+"),
        Int8("EndpointType", "1+", 1),
        Bool("IncludeFencedBrokers", "2+"));

    public static readonly MessageSchema Response = new("DescribeClusterResponse", "0-2", "0+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "0+"),
        NullableString("ErrorMessage", "0+", "0+"),
        Int8("EndpointType", "1+", 1),
        String("ClusterId", "0+"),
        Int32("ControllerId", "0+", -1),
        Array("Brokers", "0+",
            Int32("BrokerId", "0+"),
            String("Host", "0+"),
            Int32("Port", "0+"),
            NullableString("Rack", "0+", "0+"),
            Bool("IsFenced", "2+")),
        Int32("ClusterAuthorizedOperations", "0+", int.MinValue));
}
