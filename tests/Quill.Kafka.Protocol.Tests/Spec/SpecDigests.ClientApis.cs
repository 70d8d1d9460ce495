namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>
/// Every described message as Kafka's JSON message specs (clients/src/main/resources/common/message) define it, up
/// to the version Quill advertises, written out by hand from the spec files in the <see cref="SchemaDigest"/> form.
/// The source of each is named above it (repository@commit, as read; forks only where they carry upstream's text
/// unchanged for these versions). This half: produce, fetch, offsets, metadata, groups, ApiVersions.
/// </summary>
internal static partial class SpecDigests
{
    private static readonly Dictionary<string, string> Client = new()
    {
        // AutoMQ/automq@9efb93d7 (0-11); v12 "is the same as version 11" (KIP-890, Kafka 4.0 notes). v13 (topic ids) not advertised.
        ["ProduceRequest"] = """
            ProduceRequest v0-12 flexible v9+
            TransactionalId: string v3+ nullable v3+ = null
            Acks: int16 v0+
            TimeoutMs: int32 v0+
            TopicData: [] v0+
              Name: string v0+
              PartitionData: [] v0+
                Index: int32 v0+
                Records: records v0+ nullable v0+
            """,
        // apache/kafka@e3e579e7 (0-12).
        ["ProduceResponse"] = """
            ProduceResponse v0-12 flexible v9+
            Responses: [] v0+
              Name: string v0+
              PartitionResponses: [] v0+
                Index: int32 v0+
                ErrorCode: int16 v0+
                BaseOffset: int64 v0+
                LogAppendTimeMs: int64 v2+ = -1
                LogStartOffset: int64 v5+ = -1
                RecordErrors: [] v8+
                  BatchIndex: int32 v8+
                  BatchIndexErrorMessage: string v8+ nullable v8+ = null
                ErrorMessage: string v8+ nullable v8+ = null
                CurrentLeader: {} v10+ tag 0
                  LeaderId: int32 v10+ = -1
                  LeaderEpoch: int32 v10+ = -1
            ThrottleTimeMs: int32 v1+
            NodeEndpoints: [] v10+ tag 0
              NodeId: int32 v10+
              Host: string v10+
              Port: int32 v10+
              Rack: string v10+ nullable v10+ = null
            """,
        // aiven/inkless@1ac9c5f1 (4-19; upstream text for 0-17, v18+ not advertised).
        ["FetchRequest"] = """
            FetchRequest v0-17 flexible v12+
            ClusterId: string v12+ nullable v12+ tag 0 = null
            ReplicaId: int32 v0-14 = -1
            ReplicaState: {} v15+ tag 1
              ReplicaId: int32 v15+ = -1
              ReplicaEpoch: int64 v15+ = -1
            MaxWaitMs: int32 v0+
            MinBytes: int32 v0+
            MaxBytes: int32 v3+ = 2147483647
            IsolationLevel: int8 v4+
            SessionId: int32 v7+
            SessionEpoch: int32 v7+ = -1
            Topics: [] v0+
              Topic: string v0-12
              TopicId: uuid v13+
              Partitions: [] v0+
                Partition: int32 v0+
                CurrentLeaderEpoch: int32 v9+ = -1
                FetchOffset: int64 v0+
                LastFetchedEpoch: int32 v12+ = -1
                LogStartOffset: int64 v5+ = -1
                PartitionMaxBytes: int32 v0+
                ReplicaDirectoryId: uuid v17+ tag 0
            ForgottenTopicsData: [] v7+
              Topic: string v7-12
              TopicId: uuid v13+
              Partitions: []int32 v7+
            RackId: string v11+
            """,
        // aiven/inkless@3382a355 (4-19; upstream text for 0-17).
        ["FetchResponse"] = """
            FetchResponse v0-17 flexible v12+
            ThrottleTimeMs: int32 v1+
            ErrorCode: int16 v7+
            SessionId: int32 v7+
            Responses: [] v0+
              Topic: string v0-12
              TopicId: uuid v13+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                ErrorCode: int16 v0+
                HighWatermark: int64 v0+
                LastStableOffset: int64 v4+ = -1
                LogStartOffset: int64 v5+ = -1
                DivergingEpoch: {} v12+ tag 0
                  Epoch: int32 v12+ = -1
                  EndOffset: int64 v12+ = -1
                CurrentLeader: {} v12+ tag 1
                  LeaderId: int32 v12+ = -1
                  LeaderEpoch: int32 v12+ = -1
                SnapshotId: {} v12+ tag 2
                  EndOffset: int64 v12+ = -1
                  Epoch: int32 v12+ = -1
                AbortedTransactions: [] v4+ nullable v4+
                  ProducerId: int64 v4+
                  FirstOffset: int64 v4+
                PreferredReadReplica: int32 v11+ = -1
                Records: records v0+ nullable v0+
            NodeEndpoints: [] v16+ tag 0
              NodeId: int32 v16+
              Host: string v16+
              Port: int32 v16+
              Rack: string v16+ nullable v16+ = null
            """,
        // apache/kafka@e3e579e7 (0-10).
        ["ListOffsetsRequest"] = """
            ListOffsetsRequest v0-10 flexible v6+
            ReplicaId: int32 v0+
            IsolationLevel: int8 v2+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                CurrentLeaderEpoch: int32 v4+ = -1
                Timestamp: int64 v0+
                MaxNumOffsets: int32 v0 = 1
            TimeoutMs: int32 v10+
            """,
        // apache/kafka@e3e579e7 (0-10).
        ["ListOffsetsResponse"] = """
            ListOffsetsResponse v0-10 flexible v6+
            ThrottleTimeMs: int32 v2+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                ErrorCode: int16 v0+
                OldStyleOffsets: []int64 v0
                Timestamp: int64 v1+ = -1
                Offset: int64 v1+ = -1
                LeaderEpoch: int32 v4+ = -1
            """,
        // apache/kafka@e3e579e7 (0-13).
        ["MetadataRequest"] = """
            MetadataRequest v0-13 flexible v9+
            Topics: [] v0+ nullable v1+
              TopicId: uuid v10+
              Name: string v0+ nullable v10+
            AllowAutoTopicCreation: bool v4+ = true
            IncludeClusterAuthorizedOperations: bool v8-10
            IncludeTopicAuthorizedOperations: bool v8+
            """,
        // m1a2st/kafka@1f5e76b7 (0-14; v14's tagged CreationTimeMs not advertised).
        ["MetadataResponse"] = """
            MetadataResponse v0-13 flexible v9+
            ThrottleTimeMs: int32 v3+
            Brokers: [] v0+
              NodeId: int32 v0+
              Host: string v0+
              Port: int32 v0+
              Rack: string v1+ nullable v1+ = null
            ClusterId: string v2+ nullable v2+ = null
            ControllerId: int32 v1+ = -1
            Topics: [] v0+
              ErrorCode: int16 v0+
              Name: string v0+ nullable v12+
              TopicId: uuid v10+
              IsInternal: bool v1+
              Partitions: [] v0+
                ErrorCode: int16 v0+
                PartitionIndex: int32 v0+
                LeaderId: int32 v0+
                LeaderEpoch: int32 v7+ = -1
                ReplicaNodes: []int32 v0+
                IsrNodes: []int32 v0+
                OfflineReplicas: []int32 v5+
              TopicAuthorizedOperations: int32 v8+ = -2147483648
            ClusterAuthorizedOperations: int32 v8-10 = -2147483648
            ErrorCode: int16 v13+
            """,
        // dajac/kafka@0df5a0ee (0-9).
        ["OffsetCommitRequest"] = """
            OffsetCommitRequest v0-9 flexible v8+
            GroupId: string v0+
            GenerationIdOrMemberEpoch: int32 v1+ = -1
            MemberId: string v1+
            GroupInstanceId: string v7+ nullable v7+ = null
            RetentionTimeMs: int64 v2-4 = -1
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                CommittedOffset: int64 v0+
                CommittedLeaderEpoch: int32 v6+ = -1
                CommitTimestamp: int64 v1 = -1
                CommittedMetadata: string v0+ nullable v0+
            """,
        // muxun-research/kafka@d12f2a7e (2-9).
        ["OffsetCommitResponse"] = """
            OffsetCommitResponse v0-9 flexible v8+
            ThrottleTimeMs: int32 v3+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                ErrorCode: int16 v0+
            """,
        // lucasbru/kafka@6de63c6c (0-9).
        ["OffsetFetchRequest"] = """
            OffsetFetchRequest v0-9 flexible v6+
            GroupId: string v0-7
            Topics: [] v0-7 nullable v2-7
              Name: string v0-7
              PartitionIndexes: []int32 v0-7
            Groups: [] v8+
              GroupId: string v8+
              MemberId: string v9+ nullable v9+ = null
              MemberEpoch: int32 v9+ = -1
              Topics: [] v8+ nullable v8+
                Name: string v8+
                PartitionIndexes: []int32 v8+
            RequireStable: bool v7+
            """,
        // apache/kafka@0c37e22a (1-9).
        ["OffsetFetchResponse"] = """
            OffsetFetchResponse v0-9 flexible v6+
            ThrottleTimeMs: int32 v3+
            Topics: [] v0-7
              Name: string v0-7
              Partitions: [] v0-7
                PartitionIndex: int32 v0-7
                CommittedOffset: int64 v0-7
                CommittedLeaderEpoch: int32 v5-7 = -1
                Metadata: string v0-7 nullable v0-7
                ErrorCode: int16 v0-7
            ErrorCode: int16 v2-7
            Groups: [] v8+
              GroupId: string v8+
              Topics: [] v8+
                Name: string v8+
                Partitions: [] v8+
                  PartitionIndex: int32 v8+
                  CommittedOffset: int64 v8+
                  CommittedLeaderEpoch: int32 v8+ = -1
                  Metadata: string v8+ nullable v8+
                  ErrorCode: int16 v8+
              ErrorCode: int16 v8+
            """,
        // apache/kafka@e3e579e7 (0-6).
        ["FindCoordinatorRequest"] = """
            FindCoordinatorRequest v0-6 flexible v3+
            Key: string v0-3
            KeyType: int8 v1+
            CoordinatorKeys: []string v4+
            """,
        // aiven/inkless@a744577f (0-7; v7 is the fork's own).
        ["FindCoordinatorResponse"] = """
            FindCoordinatorResponse v0-6 flexible v3+
            ThrottleTimeMs: int32 v1+
            ErrorCode: int16 v0-3
            ErrorMessage: string v1-3 nullable v1-3
            NodeId: int32 v0-3
            Host: string v0-3
            Port: int32 v0-3
            Coordinators: [] v4+
              Key: string v4+
              NodeId: int32 v4+
              Host: string v4+
              Port: int32 v4+
              ErrorCode: int16 v4+
              ErrorMessage: string v4+ nullable v4+
            """,
    };
}
