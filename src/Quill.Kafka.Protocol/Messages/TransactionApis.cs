using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// AddPartitionsToTxn (24): the client's versions, 0-3 (v2 PRODUCER_FENCED, v3 flexible). v4+ batch several
/// transactions for broker-to-broker verification (KIP-890) and are not described.
/// </summary>
public static class AddPartitionsToTxnApi
{
    public static readonly MessageSchema Request = new("AddPartitionsToTxnRequest", "0-3", "3+",
        String("V3AndBelowTransactionalId", "0-3"),
        Int64("V3AndBelowProducerId", "0-3"),
        Int16("V3AndBelowProducerEpoch", "0-3"),
        Array("V3AndBelowTopics", "0-3",
            String("Name", "0+"),
            Int32Array("Partitions", "0+")));

    public static readonly MessageSchema Response = new("AddPartitionsToTxnResponse", "0-3", "3+",
        Int32("ThrottleTimeMs", "0+"),
        Array("ResultsByTopicV3AndBelow", "0-3",
            String("Name", "0+"),
            Array("ResultsByPartition", "0+",
                Int32("PartitionIndex", "0+"),
                Int16("PartitionErrorCode", "0+"))));
}

/// <summary>AddOffsetsToTxn (25): v2 PRODUCER_FENCED, v3 flexible, v4 TRANSACTION_ABORTABLE (never sent here).</summary>
public static class AddOffsetsToTxnApi
{
    public static readonly MessageSchema Request = new("AddOffsetsToTxnRequest", "0-4", "3+",
        String("TransactionalId", "0+"),
        Int64("ProducerId", "0+"),
        Int16("ProducerEpoch", "0+"),
        String("GroupId", "0+"));

    public static readonly MessageSchema Response = new("AddOffsetsToTxnResponse", "0-4", "3+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "0+"));
}

/// <summary>
/// EndTxn (26): v2 PRODUCER_FENCED, v3 flexible, v4 TRANSACTION_ABORTABLE. v5 (an epoch bump on every transaction,
/// KIP-890 part 2) is not described.
/// </summary>
public static class EndTxnApi
{
    public static readonly MessageSchema Request = new("EndTxnRequest", "0-4", "3+",
        String("TransactionalId", "0+"),
        Int64("ProducerId", "0+"),
        Int16("ProducerEpoch", "0+"),
        Bool("Committed", "0+"));

    public static readonly MessageSchema Response = new("EndTxnResponse", "0-4", "3+",
        Int32("ThrottleTimeMs", "0+"),
        Int16("ErrorCode", "0+"));
}

/// <summary>
/// WriteTxnMarkers (27), broker to broker: the transaction coordinator asks a partition's leader to write COMMIT or
/// ABORT markers (v1 flexible).
/// </summary>
public static class WriteTxnMarkersApi
{
    public static readonly MessageSchema Request = new("WriteTxnMarkersRequest", "0-1", "1+",
        Array("Markers", "0+",
            Int64("ProducerId", "0+"),
            Int16("ProducerEpoch", "0+"),
            Bool("TransactionResult", "0+"),
            Array("Topics", "0+",
                String("Name", "0+"),
                Int32Array("PartitionIndexes", "0+")),
            Int32("CoordinatorEpoch", "0+")));

    public static readonly MessageSchema Response = new("WriteTxnMarkersResponse", "0-1", "1+",
        Array("Markers", "0+",
            Int64("ProducerId", "0+"),
            Array("Topics", "0+",
                String("Name", "0+"),
                Array("Partitions", "0+",
                    Int32("PartitionIndex", "0+"),
                    Int16("ErrorCode", "0+")))));
}

/// <summary>TxnOffsetCommit (28): v2 the committed leader epoch, v3 flexible with the consumer's generation and member.</summary>
public static class TxnOffsetCommitApi
{
    public static readonly MessageSchema Request = new("TxnOffsetCommitRequest", "0-3", "3+",
        String("TransactionalId", "0+"),
        String("GroupId", "0+"),
        Int64("ProducerId", "0+"),
        Int16("ProducerEpoch", "0+"),
        Int32("GenerationId", "3+", -1),
        String("MemberId", "3+"),
        NullableString("GroupInstanceId", "3+", "3+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int64("CommittedOffset", "0+"),
                Int32("CommittedLeaderEpoch", "2+", -1),
                String("CommittedMetadata", "0+").Nullable("0+"))));

    public static readonly MessageSchema Response = new("TxnOffsetCommitResponse", "0-3", "3+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Topics", "0+",
            String("Name", "0+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int16("ErrorCode", "0+"))));
}
