using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// Produce (0). v3 adds the transactional id and record batches (magic 2); v9 is flexible; v10 adds the
/// current leader and node endpoints (KIP-951) as tagged response fields; v11 and v12 change only semantics
/// (KIP-890: TRANSACTION_ABORTABLE, and implicit AddPartitionsToTxn for transactions, which this broker refuses
/// at InitProducerId anyway). Not advertised beyond 12: v13 names topics by id instead of name (KIP-516), and the
/// produce path works by name. Min version stays 0 (librdkafka needs Produce 0-2 listed, KAFKA-18659).
/// </summary>
public static class ProduceApi
{
    public static readonly MessageSchema Request = new("ProduceRequest", "0-12", "9+",
        NullableString("TransactionalId", "3+", "0+"),
        Int16("Acks", "0+"),
        Int32("TimeoutMs", "0+"),
        Array("TopicData", "0+",
            String("Name", "0+"),
            Array("PartitionData", "0+",
                Int32("Index", "0+"),
                F.Records("Records", "0+").Nullable("0+"))));

    public static readonly MessageSchema Response = new("ProduceResponse", "0-12", "9+",
        Array("Responses", "0+",
            String("Name", "0+"),
            Array("PartitionResponses", "0+",
                Int32("Index", "0+"),
                Int16("ErrorCode", "0+"),
                Int64("BaseOffset", "0+"),
                Int64("LogAppendTimeMs", "2+", -1),
                Int64("LogStartOffset", "5+", -1),
                Array("RecordErrors", "8+",
                    Int32("BatchIndex", "8+"),
                    NullableString("BatchIndexErrorMessage", "8+", "8+")),
                NullableString("ErrorMessage", "8+", "8+"),
                Struct("CurrentLeader", "10+",
                    Int32("LeaderId", "10+", -1),
                    Int32("LeaderEpoch", "10+", -1)).Tagged(0))),
        Int32("ThrottleTimeMs", "1+"),
        NodeEndpoints("10+").Tagged(0));

    /// <summary>The broker list that Produce (v10+) and Fetch (v16+) responses carry for leader discovery.</summary>
    internal static Field NodeEndpoints(string versions) =>
        Array("NodeEndpoints", versions,
            Int32("NodeId", versions),
            String("Host", versions),
            Int32("Port", versions),
            NullableString("Rack", versions, versions));
}
