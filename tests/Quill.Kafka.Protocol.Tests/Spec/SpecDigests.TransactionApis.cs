namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>The transaction APIs (see <see cref="SpecDigests"/> for the form), up to the versions Quill advertises.</summary>
internal static partial class SpecDigests
{
    private static readonly Dictionary<string, string> Transactions = new()
    {
        // apache/kafka@054b66e3 (0-5); v4+ (Transactions, batched for brokers) not advertised.
        ["AddPartitionsToTxnRequest"] = """
            AddPartitionsToTxnRequest v0-3 flexible v3+
            V3AndBelowTransactionalId: string v0+
            V3AndBelowProducerId: int64 v0+
            V3AndBelowProducerEpoch: int16 v0+
            V3AndBelowTopics: [] v0+
              Name: string v0+
              Partitions: []int32 v0+
            """,
        // apache/kafka@0e3cf152 (0-5); v4+ (ErrorCode, ResultsByTransaction) not advertised.
        ["AddPartitionsToTxnResponse"] = """
            AddPartitionsToTxnResponse v0-3 flexible v3+
            ThrottleTimeMs: int32 v0+
            ResultsByTopicV3AndBelow: [] v0+
              Name: string v0+
              ResultsByPartition: [] v0+
                PartitionIndex: int32 v0+
                PartitionErrorCode: int16 v0+
            """,
        // apache/kafka@13521460 (0-4).
        ["AddOffsetsToTxnRequest"] = """
            AddOffsetsToTxnRequest v0-4 flexible v3+
            TransactionalId: string v0+
            ProducerId: int64 v0+
            ProducerEpoch: int16 v0+
            GroupId: string v0+
            """,
        // The fields of apache/kafka@19eccd13 (0-1: ThrottleTimeMs, ErrorCode), unchanged in later versions; the
        // versions and flexibility follow the request's (a response always has its request's range).
        ["AddOffsetsToTxnResponse"] = """
            AddOffsetsToTxnResponse v0-4 flexible v3+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v0+
            """,
        // apache/kafka@0d94c124 (0-5); v5 (epoch bump per transaction, KIP-890 part 2) not advertised.
        ["EndTxnRequest"] = """
            EndTxnRequest v0-4 flexible v3+
            TransactionalId: string v0+
            ProducerId: int64 v0+
            ProducerEpoch: int16 v0+
            Committed: bool v0+
            """,
        // The fields of apache/kafka@1e292a74 (0-2), unchanged up to v4 (v5 adds the producer id and epoch).
        ["EndTxnResponse"] = """
            EndTxnResponse v0-4 flexible v3+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v0+
            """,
        // WriteTxnMarkersRequest.json (0-1, flexible 1+).
        ["WriteTxnMarkersRequest"] = """
            WriteTxnMarkersRequest v0-1 flexible v1+
            Markers: [] v0+
              ProducerId: int64 v0+
              ProducerEpoch: int16 v0+
              TransactionResult: bool v0+
              Topics: [] v0+
                Name: string v0+
                PartitionIndexes: []int32 v0+
              CoordinatorEpoch: int32 v0+
            """,
        // WriteTxnMarkersResponse.json (0-1, flexible 1+).
        ["WriteTxnMarkersResponse"] = """
            WriteTxnMarkersResponse v0-1 flexible v1+
            Markers: [] v0+
              ProducerId: int64 v0+
              Topics: [] v0+
                Name: string v0+
                Partitions: [] v0+
                  PartitionIndex: int32 v0+
                  ErrorCode: int16 v0+
            """,
        // apache/kafka@06ebebe4 (0-3).
        ["TxnOffsetCommitRequest"] = """
            TxnOffsetCommitRequest v0-3 flexible v3+
            TransactionalId: string v0+
            GroupId: string v0+
            ProducerId: int64 v0+
            ProducerEpoch: int16 v0+
            GenerationId: int32 v3+ = -1
            MemberId: string v3+
            GroupInstanceId: string v3+ nullable v3+ = null
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                CommittedOffset: int64 v0+
                CommittedLeaderEpoch: int32 v2+ = -1
                CommittedMetadata: string v0+ nullable v0+
            """,
        // apache/kafka@0cbaca7a (0-3).
        ["TxnOffsetCommitResponse"] = """
            TxnOffsetCommitResponse v0-3 flexible v3+
            ThrottleTimeMs: int32 v0+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                ErrorCode: int16 v0+
            """,
    };
}
