namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>
/// The controller-to-broker APIs of ZooKeeper mode (see <see cref="SpecDigests"/> for the form), at the versions
/// Kafka 3.x's controller sends: apache/kafka@1eb76443 (the last tree that has them; Kafka 4.0 removed them with
/// ZooKeeper mode). The spec's "isKRaftController" is written with a capital, as every other field name.
/// </summary>
internal static partial class SpecDigests
{
    private static readonly Dictionary<string, string> Controller = new()
    {
        ["LeaderAndIsrRequest"] = """
            LeaderAndIsrRequest v0-7 flexible v4+
            ControllerId: int32 v0+
            IsKRaftController: bool v7+
            ControllerEpoch: int32 v0+
            BrokerEpoch: int64 v2+ = -1
            Type: int8 v5+
            UngroupedPartitionStates: [] v0-1
              TopicName: string v0-1
              PartitionIndex: int32 v0-1
              ControllerEpoch: int32 v0-1
              Leader: int32 v0-1
              LeaderEpoch: int32 v0-1
              Isr: []int32 v0-1
              PartitionEpoch: int32 v0-1
              Replicas: []int32 v0-1
              AddingReplicas: []int32 vnone
              RemovingReplicas: []int32 vnone
              IsNew: bool v1
              LeaderRecoveryState: int8 vnone
            TopicStates: [] v2+
              TopicName: string v2+
              TopicId: uuid v5+
              PartitionStates: [] v2+
                TopicName: string vnone
                PartitionIndex: int32 v2+
                ControllerEpoch: int32 v2+
                Leader: int32 v2+
                LeaderEpoch: int32 v2+
                Isr: []int32 v2+
                PartitionEpoch: int32 v2+
                Replicas: []int32 v2+
                AddingReplicas: []int32 v3+
                RemovingReplicas: []int32 v3+
                IsNew: bool v2+
                LeaderRecoveryState: int8 v6+
            LiveLeaders: [] v0+
              BrokerId: int32 v0+
              HostName: string v0+
              Port: int32 v0+
            """,
        ["LeaderAndIsrResponse"] = """
            LeaderAndIsrResponse v0-7 flexible v4+
            ErrorCode: int16 v0+
            PartitionErrors: [] v0-4
              TopicName: string v0-4
              PartitionIndex: int32 v0-4
              ErrorCode: int16 v0-4
            Topics: [] v5+
              TopicId: uuid v5+
              PartitionErrors: [] v5+
                TopicName: string vnone
                PartitionIndex: int32 v5+
                ErrorCode: int16 v5+
            """,
        ["StopReplicaRequest"] = """
            StopReplicaRequest v0-4 flexible v2+
            ControllerId: int32 v0+
            IsKRaftController: bool v4+
            ControllerEpoch: int32 v0+
            BrokerEpoch: int64 v1+ = -1
            DeletePartitions: bool v0-2
            UngroupedPartitions: [] v0
              TopicName: string v0
              PartitionIndex: int32 v0
            Topics: [] v1-2
              Name: string v1-2
              PartitionIndexes: []int32 v1-2
            TopicStates: [] v3+
              TopicName: string v3+
              PartitionStates: [] v3+
                PartitionIndex: int32 v3+
                LeaderEpoch: int32 v3+ = -1
                DeletePartition: bool v3+
            """,
        ["StopReplicaResponse"] = """
            StopReplicaResponse v0-4 flexible v2+
            ErrorCode: int16 v0+
            PartitionErrors: [] v0+
              TopicName: string v0+
              PartitionIndex: int32 v0+
              ErrorCode: int16 v0+
            """,
        ["UpdateMetadataRequest"] = """
            UpdateMetadataRequest v0-8 flexible v6+
            ControllerId: int32 v0+
            IsKRaftController: bool v8+
            Type: int8 v8+ tag 0
            ControllerEpoch: int32 v0+
            BrokerEpoch: int64 v5+ = -1
            UngroupedPartitionStates: [] v0-4
              TopicName: string v0-4
              PartitionIndex: int32 v0-4
              ControllerEpoch: int32 v0-4
              Leader: int32 v0-4
              LeaderEpoch: int32 v0-4
              Isr: []int32 v0-4
              ZkVersion: int32 v0-4
              Replicas: []int32 v0-4
              OfflineReplicas: []int32 v4
            TopicStates: [] v5+
              TopicName: string v5+
              TopicId: uuid v7+
              PartitionStates: [] v5+
                TopicName: string vnone
                PartitionIndex: int32 v5+
                ControllerEpoch: int32 v5+
                Leader: int32 v5+
                LeaderEpoch: int32 v5+
                Isr: []int32 v5+
                ZkVersion: int32 v5+
                Replicas: []int32 v5+
                OfflineReplicas: []int32 v5+
            LiveBrokers: [] v0+
              Id: int32 v0+
              V0Host: string v0
              V0Port: int32 v0
              Endpoints: [] v1+
                Port: int32 v1+
                Host: string v1+
                Listener: string v3+
                SecurityProtocol: int16 v1+
              Rack: string v2+ nullable v2+
            """,
        ["UpdateMetadataResponse"] = """
            UpdateMetadataResponse v0-8 flexible v6+
            ErrorCode: int16 v0+
            """,
    };
}
