using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>ElectLeaders (43): v1 election type and a top-level error code (KIP-460), v2 flexible.</summary>
public static class ElectLeadersApi
{
    public static readonly MessageSchema Request = new("ElectLeadersRequest", "0-2", "2+",
        Int8("ElectionType", "1+"),
        Array("TopicPartitions", "0+",
            String("Topic", "0+"),
            Int32Array("Partitions", "0+")).Nullable("0+"),
        Int32("TimeoutMs", "0+", 60000));

    public static readonly MessageSchema Response = new("ElectLeadersResponse", "0-2", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "1+"),
        Array("ReplicaElectionResults", "0+",
            String("Topic", "0+"),
            Array("PartitionResult", "0+",
                Int32("PartitionId", "0+"),
                Int16("ErrorCode", "0+"),
                String("ErrorMessage", "0+").Nullable("0+"))));
}

/// <summary>
/// ControlledShutdown (7): a stopping broker asks the controller to move its leaderships away; v1 same bytes, v2 the
/// broker epoch, v3 flexible. Kafka sends v0 with request header v0 (no client id), which Quill's brokers never send;
/// the broker's own client sends v3.
/// </summary>
public static class ControlledShutdownApi
{
    public static readonly MessageSchema Request = new("ControlledShutdownRequest", "0-3", "3+",
        Int32("BrokerId", "0+"),
        Int64("BrokerEpoch", "2+", -1));

    public static readonly MessageSchema Response = new("ControlledShutdownResponse", "0-3", "3+",
        Int16("ErrorCode", "0+"),
        Array("RemainingPartitions", "0+",
            String("TopicName", "0+"),
            Int32("PartitionIndex", "0+")));
}

/// <summary>AlterPartitionReassignments (45, KIP-455): always flexible. A null replica list cancels a reassignment.</summary>
public static class AlterPartitionReassignmentsApi
{
    public static readonly MessageSchema Request = new("AlterPartitionReassignmentsRequest", "0", "0+",
        Int32("TimeoutMs", "0+", 60000),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int32Array("Replicas", "0+").Nullable("0+").DefaultsToNull())));

    public static readonly MessageSchema Response = new("AlterPartitionReassignmentsResponse", "0", "0+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "0+"),
        String("ErrorMessage", "0+").Nullable("0+"),
        Array("Responses", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int16("ErrorCode", "0+"),
                String("ErrorMessage", "0+").Nullable("0+"))));
}

/// <summary>ListPartitionReassignments (46, KIP-455): always flexible. Null topics lists every ongoing reassignment.</summary>
public static class ListPartitionReassignmentsApi
{
    public static readonly MessageSchema Request = new("ListPartitionReassignmentsRequest", "0", "0+",
        Int32("TimeoutMs", "0+", 60000),
        Array("Topics", "0+",
            String("Name", "0+"),
            Int32Array("PartitionIndexes", "0+")).Nullable("0+").DefaultsToNull());

    public static readonly MessageSchema Response = new("ListPartitionReassignmentsResponse", "0", "0+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "0+"),
        String("ErrorMessage", "0+").Nullable("0+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int32Array("Replicas", "0+"),
                Int32Array("AddingReplicas", "0+"),
                Int32Array("RemovingReplicas", "0+"))));
}

/// <summary>
/// DescribeLogDirs (35): v1 same bytes, v2 flexible, v3 a top-level error code, v4 the volume's total and usable
/// bytes per log dir. Null topics describes every partition.
/// </summary>
public static class DescribeLogDirsApi
{
    public static readonly MessageSchema Request = new("DescribeLogDirsRequest", "0-4", "2+",
        Array("Topics", "0+",
            String("Topic", "0+"),
            Int32Array("Partitions", "0+")).Nullable("0+"));

    public static readonly MessageSchema Response = new("DescribeLogDirsResponse", "0-4", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "3+"),
        Array("Results", "0+",
            Int16("ErrorCode", "0+"),
            String("LogDir", "0+"),
            Array("Topics", "0+",
                String("Name", "0+"),
                Array("Partitions", "0+",
                    Int32("PartitionIndex", "0+"),
                    Int64("PartitionSize", "0+"),
                    Int64("OffsetLag", "0+"),
                    Bool("IsFutureKey", "0+"))),
            Int64("TotalBytes", "4+", -1),
            Int64("UsableBytes", "4+", -1)));
}
