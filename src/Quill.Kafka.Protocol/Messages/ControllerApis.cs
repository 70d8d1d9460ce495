using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// LeaderAndIsr (4): the controller tells a partition's replicas their leader, leader epoch and ISR (ZooKeeper mode).
/// v1 IsNew, v2 broker epoch and partitions grouped by topic, v3 adding/removing replicas, v4 flexible, v5 topic ids
/// and the request type (0 incremental, 1 full), v6 the leader recovery state (KIP-704), v7 whether a KRaft
/// controller sent it (KIP-866, migration). Kafka 3.x's ZooKeeper controller sends v7. The response names partitions
/// by topic name up to v4 and groups them under topic ids from v5.
/// </summary>
public static class LeaderAndIsrApi
{
    private static Field[] PartitionState() =>
    [
        String("TopicName", "0-1"),
        Int32("PartitionIndex", "0+"),
        Int32("ControllerEpoch", "0+"),
        Int32("Leader", "0+"),
        Int32("LeaderEpoch", "0+"),
        Int32Array("Isr", "0+"),
        Int32("PartitionEpoch", "0+"),
        Int32Array("Replicas", "0+"),
        Int32Array("AddingReplicas", "3+"),
        Int32Array("RemovingReplicas", "3+"),
        Bool("IsNew", "1+"),
        Int8("LeaderRecoveryState", "6+"),
    ];

    public static readonly MessageSchema Request = new("LeaderAndIsrRequest", "0-7", "4+",
        Int32("ControllerId", "0+"),
        Bool("IsKRaftController", "7+"),
        Int32("ControllerEpoch", "0+"),
        Int64("BrokerEpoch", "2+", -1),
        Int8("Type", "5+"),
        Array("UngroupedPartitionStates", "0-1", PartitionState()),
        Array("TopicStates", "2+",
            String("TopicName", "2+"),
            Uuid("TopicId", "5+"),
            Array("PartitionStates", "2+", PartitionState())),
        Array("LiveLeaders", "0+",
            Int32("BrokerId", "0+"),
            String("HostName", "0+"),
            Int32("Port", "0+")));

    private static Field[] PartitionError() =>
    [
        String("TopicName", "0-4"),
        Int32("PartitionIndex", "0+"),
        Int16("ErrorCode", "0+"),
    ];

    public static readonly MessageSchema Response = new("LeaderAndIsrResponse", "0-7", "4+",
        Int16("ErrorCode", "0+"),
        Array("PartitionErrors", "0-4", PartitionError()),
        Array("Topics", "5+",
            Uuid("TopicId", "5+"),
            Array("PartitionErrors", "5+", PartitionError())));
}

/// <summary>
/// StopReplica (5): the controller tells a broker to stop a replica (and delete it, for topic deletion and replicas a
/// reassignment removed). v1 broker epoch and partitions grouped by topic, v2 flexible, v3 a leader epoch and delete
/// flag per partition (KIP-570: FENCED_LEADER_EPOCH for an older epoch), v4 the KRaft-controller flag (KIP-866).
/// </summary>
public static class StopReplicaApi
{
    public static readonly MessageSchema Request = new("StopReplicaRequest", "0-4", "2+",
        Int32("ControllerId", "0+"),
        Bool("IsKRaftController", "4+"),
        Int32("ControllerEpoch", "0+"),
        Int64("BrokerEpoch", "1+", -1),
        Bool("DeletePartitions", "0-2"),
        Array("UngroupedPartitions", "0",
            String("TopicName", "0"),
            Int32("PartitionIndex", "0")),
        Array("Topics", "1-2",
            String("Name", "1-2"),
            Int32Array("PartitionIndexes", "1-2")),
        Array("TopicStates", "3+",
            String("TopicName", "3+"),
            Array("PartitionStates", "3+",
                Int32("PartitionIndex", "3+"),
                Int32("LeaderEpoch", "3+", -1),
                Bool("DeletePartition", "3+"))));

    public static readonly MessageSchema Response = new("StopReplicaResponse", "0-4", "2+",
        Int16("ErrorCode", "0+"),
        Array("PartitionErrors", "0+",
            String("TopicName", "0+"),
            Int32("PartitionIndex", "0+"),
            Int16("ErrorCode", "0+")));
}

/// <summary>
/// UpdateMetadata (6): the controller sends every broker the live brokers and partition states for its metadata
/// cache. v1 endpoints, v2 rack, v3 listener names, v4 offline replicas, v5 broker epoch and partitions grouped by
/// topic, v6 flexible, v7 topic ids, v8 the KRaft-controller flag and a tagged request type (KIP-866).
/// </summary>
public static class UpdateMetadataApi
{
    private static Field[] PartitionState() =>
    [
        String("TopicName", "0-4"),
        Int32("PartitionIndex", "0+"),
        Int32("ControllerEpoch", "0+"),
        Int32("Leader", "0+"),
        Int32("LeaderEpoch", "0+"),
        Int32Array("Isr", "0+"),
        Int32("ZkVersion", "0+"),
        Int32Array("Replicas", "0+"),
        Int32Array("OfflineReplicas", "4+"),
    ];

    public static readonly MessageSchema Request = new("UpdateMetadataRequest", "0-8", "6+",
        Int32("ControllerId", "0+"),
        Bool("IsKRaftController", "8+"),
        Int8("Type", "8+").Tagged(0),
        Int32("ControllerEpoch", "0+"),
        Int64("BrokerEpoch", "5+", -1),
        Array("UngroupedPartitionStates", "0-4", PartitionState()),
        Array("TopicStates", "5+",
            String("TopicName", "5+"),
            Uuid("TopicId", "7+"),
            Array("PartitionStates", "5+", PartitionState())),
        Array("LiveBrokers", "0+",
            Int32("Id", "0+"),
            String("V0Host", "0"),
            Int32("V0Port", "0"),
            Array("Endpoints", "1+",
                Int32("Port", "1+"),
                String("Host", "1+"),
                String("Listener", "3+"),
                Int16("SecurityProtocol", "1+")),
            String("Rack", "2+").Nullable("0+")));

    public static readonly MessageSchema Response = new("UpdateMetadataResponse", "0-8", "6+",
        Int16("ErrorCode", "0+"));
}
