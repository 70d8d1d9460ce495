namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>Topic, config, cluster and producer-id APIs, from the JSON specs (see <see cref="SpecDigests"/>).</summary>
internal static partial class SpecDigests
{
    private static readonly Dictionary<string, string> Admin = new()
    {
        // muxun-research/kafka@eb37e781 (0-7).
        ["CreateTopicsRequest"] = """
            CreateTopicsRequest v0-7 flexible v5+
            Topics: [] v0+
              Name: string v0+
              NumPartitions: int32 v0+
              ReplicationFactor: int16 v0+
              Assignments: [] v0+
                PartitionIndex: int32 v0+
                BrokerIds: []int32 v0+
              Configs: [] v0+
                Name: string v0+
                Value: string v0+ nullable v0+
            TimeoutMs: int32 v0+ = 60000
            ValidateOnly: bool v1+
            """,
        // apache/kafka@e3e579e7 (0-7): ErrorMessage has no default, so "".
        ["CreateTopicsResponse"] = """
            CreateTopicsResponse v0-7 flexible v5+
            ThrottleTimeMs: int32 v2+
            Topics: [] v0+
              Name: string v0+
              TopicId: uuid v7+
              ErrorCode: int16 v0+
              ErrorMessage: string v1+ nullable v1+
              TopicConfigErrorCode: int16 v5+ tag 0
              NumPartitions: int32 v5+ = -1
              ReplicationFactor: int16 v5+ = -1
              Configs: [] v5+ nullable v5+
                Name: string v5+
                Value: string v5+ nullable v5+
                ReadOnly: bool v5+
                ConfigSource: int8 v5+ = -1
                IsSensitive: bool v5+
            """,
        // jeqo/kafka@ad9d417c (0-6; its validateOnly is the fork's own), muxun-research/kafka@eb37e781 for the response.
        ["DeleteTopicsRequest"] = """
            DeleteTopicsRequest v0-6 flexible v4+
            Topics: [] v6+
              Name: string v6+ nullable v6+ = null
              TopicId: uuid v6+
            TopicNames: []string v0-5
            TimeoutMs: int32 v0+
            """,
        ["DeleteTopicsResponse"] = """
            DeleteTopicsResponse v0-6 flexible v4+
            ThrottleTimeMs: int32 v1+
            Responses: [] v0+
              Name: string v0+ nullable v6+
              TopicId: uuid v6+
              ErrorCode: int16 v0+
              ErrorMessage: string v5+ nullable v5+ = null
            """,
        // TaiJuWu/kafka@250ad7d7 for 0-2 (its v3 Acks is not advertised), muxun-research/kafka@eb37e781 for the response.
        ["DeleteRecordsRequest"] = """
            DeleteRecordsRequest v0-2 flexible v2+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                Offset: int64 v0+
            TimeoutMs: int32 v0+
            """,
        ["DeleteRecordsResponse"] = """
            DeleteRecordsResponse v0-2 flexible v2+
            ThrottleTimeMs: int32 v0+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                LowWatermark: int64 v0+
                ErrorCode: int16 v0+
            """,
        // apache/kafka@007dde70 and muxun-research/kafka@eb37e781 (0-4); v5 only adds TRANSACTION_ABORTABLE (KIP-890).
        ["InitProducerIdRequest"] = """
            InitProducerIdRequest v0-5 flexible v2+
            TransactionalId: string v0+ nullable v0+
            TransactionTimeoutMs: int32 v0+
            ProducerId: int64 v3+ = -1
            ProducerEpoch: int16 v3+ = -1
            """,
        ["InitProducerIdResponse"] = """
            InitProducerIdResponse v0-5 flexible v2+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v0+
            ProducerId: int64 v0+ = -1
            ProducerEpoch: int16 v0+
            """,
        // TaiJuWu/kafka@84781d5f (2-5; v5 topic ids not advertised).
        ["OffsetForLeaderEpochRequest"] = """
            OffsetForLeaderEpochRequest v0-4 flexible v4+
            ReplicaId: int32 v3+ = -2
            Topics: [] v0+
              Topic: string v0+
              Partitions: [] v0+
                Partition: int32 v0+
                CurrentLeaderEpoch: int32 v2+ = -1
                LeaderEpoch: int32 v0+
            """,
        ["OffsetForLeaderEpochResponse"] = """
            OffsetForLeaderEpochResponse v0-4 flexible v4+
            ThrottleTimeMs: int32 v2+
            Topics: [] v0+
              Topic: string v0+
              Partitions: [] v0+
                ErrorCode: int16 v0+
                Partition: int32 v0+
                LeaderEpoch: int32 v1+ = -1
                EndOffset: int64 v0+ = -1
            """,
        // muxun-research/kafka@eb37e781 (0-4), apache/kafka@e3e579e7 for the response.
        ["DescribeConfigsRequest"] = """
            DescribeConfigsRequest v0-4 flexible v4+
            Resources: [] v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
              ConfigurationKeys: []string v0+ nullable v0+
            IncludeSynonyms: bool v1+
            IncludeDocumentation: bool v3+
            """,
        ["DescribeConfigsResponse"] = """
            DescribeConfigsResponse v0-4 flexible v4+
            ThrottleTimeMs: int32 v0+
            Results: [] v0+
              ErrorCode: int16 v0+
              ErrorMessage: string v0+ nullable v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
              Configs: [] v0+
                Name: string v0+
                Value: string v0+ nullable v0+
                ReadOnly: bool v0+
                IsDefault: bool v0
                ConfigSource: int8 v1+ = -1
                IsSensitive: bool v0+
                Synonyms: [] v1+
                  Name: string v1+
                  Value: string v1+ nullable v1+
                  Source: int8 v1+
                ConfigType: int8 v3+
                Documentation: string v3+ nullable v3+
            """,
        // muxun-research/kafka@eb37e781 (0-2).
        ["AlterConfigsRequest"] = """
            AlterConfigsRequest v0-2 flexible v2+
            Resources: [] v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
              Configs: [] v0+
                Name: string v0+
                Value: string v0+ nullable v0+
            ValidateOnly: bool v0+
            """,
        ["AlterConfigsResponse"] = """
            AlterConfigsResponse v0-2 flexible v2+
            ThrottleTimeMs: int32 v0+
            Responses: [] v0+
              ErrorCode: int16 v0+
              ErrorMessage: string v0+ nullable v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
            """,
        // muxun-research/kafka@eb37e781 (0-3).
        ["CreatePartitionsRequest"] = """
            CreatePartitionsRequest v0-3 flexible v2+
            Topics: [] v0+
              Name: string v0+
              Count: int32 v0+
              Assignments: [] v0+ nullable v0+
                BrokerIds: []int32 v0+
            TimeoutMs: int32 v0+
            ValidateOnly: bool v0+
            """,
        ["CreatePartitionsResponse"] = """
            CreatePartitionsResponse v0-3 flexible v2+
            ThrottleTimeMs: int32 v0+
            Results: [] v0+
              Name: string v0+
              ErrorCode: int16 v0+
              ErrorMessage: string v0+ nullable v0+ = null
            """,
        // muxun-research/kafka@eb37e781 (0-1).
        ["IncrementalAlterConfigsRequest"] = """
            IncrementalAlterConfigsRequest v0-1 flexible v1+
            Resources: [] v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
              Configs: [] v0+
                Name: string v0+
                ConfigOperation: int8 v0+
                Value: string v0+ nullable v0+
            ValidateOnly: bool v0+
            """,
        ["IncrementalAlterConfigsResponse"] = """
            IncrementalAlterConfigsResponse v0-1 flexible v1+
            ThrottleTimeMs: int32 v0+
            Responses: [] v0+
              ErrorCode: int16 v0+
              ErrorMessage: string v0+ nullable v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
            """,
        // TaiJuWu/kafka@1bdf2efb (0-2, KIP-1073).
        ["DescribeClusterRequest"] = """
            DescribeClusterRequest v0-2 flexible v0+
            IncludeClusterAuthorizedOperations: bool v0+
            EndpointType: int8 v1+ = 1
            IncludeFencedBrokers: bool v2+
            """,
        // apache/kafka@e3e579e7 (0-1); v2 adds Brokers[].IsFenced after Rack (KIP-1073, Kafka 4.0).
        ["DescribeClusterResponse"] = """
            DescribeClusterResponse v0-2 flexible v0+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v0+
            ErrorMessage: string v0+ nullable v0+ = null
            EndpointType: int8 v1+ = 1
            ClusterId: string v0+
            ControllerId: int32 v0+ = -1
            Brokers: [] v0+
              BrokerId: int32 v0+
              Host: string v0+
              Port: int32 v0+
              Rack: string v0+ nullable v0+ = null
              IsFenced: bool v2+
            ClusterAuthorizedOperations: int32 v0+ = -2147483648
            """,
    };

    /// <summary>Every message by name, with its digest as the spec has it.</summary>
    /// <remarks>A getter, not an initializer: the parts live in other files, whose initializers run in no set order.</remarks>
    public static IReadOnlyDictionary<string, string> All =>
        Client.Concat(Groups).Concat(Admin).Concat(Transactions).Concat(ClusterAdmin).Concat(Controller).Concat(Sasl).ToDictionary(e => e.Key, e => e.Value + "\n");
}
