using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// Fetch (1). v3 MaxBytes, v4 isolation level and aborted transactions, v5 log start offset, v7 fetch
/// sessions, v9 current leader epoch, v11 rack id and preferred read replica, v12 flexible with diverging
/// epoch / current leader / snapshot id tagged, v13 topic ids replace names (the handler resolves them), v15
/// replica state replaces ReplicaId, v16 node endpoints, v17 replica directory id (v15-17 add only what followers
/// send, which a consumer leaves at the defaults). Not advertised beyond 17: v18 adds a follower's high watermark
/// (KIP-1166), which a broker without followers has no use for.
/// </summary>
public static class FetchApi
{
    public static readonly MessageSchema Request = new("FetchRequest", "0-17", "12+",
        NullableString("ClusterId", "12+", "12+").Tagged(0),
        Int32("ReplicaId", "0-14", -1),
        Struct("ReplicaState", "15+",
            Int32("ReplicaId", "15+", -1),
            Int64("ReplicaEpoch", "15+", -1)).Tagged(1),
        Int32("MaxWaitMs", "0+"),
        Int32("MinBytes", "0+"),
        Int32("MaxBytes", "3+", int.MaxValue),
        Int8("IsolationLevel", "4+"),
        Int32("SessionId", "7+"),
        Int32("SessionEpoch", "7+", -1),
        Array("Topics", "0+",
            String("Topic", "0-12"),
            Uuid("TopicId", "13+"),
            Array("Partitions", "0+",
                Int32("Partition", "0+"),
                Int32("CurrentLeaderEpoch", "9+", -1),
                Int64("FetchOffset", "0+"),
                Int32("LastFetchedEpoch", "12+", -1),
                Int64("LogStartOffset", "5+", -1),
                Int32("PartitionMaxBytes", "0+"),
                Uuid("ReplicaDirectoryId", "17+").Tagged(0))),
        Array("ForgottenTopicsData", "7+",
            String("Topic", "7-12"),
            Uuid("TopicId", "13+"),
            Int32Array("Partitions", "7+")),
        String("RackId", "11+"));

    public static readonly MessageSchema Response = new("FetchResponse", "0-17", "12+",
        Int32("ThrottleTimeMs", "1+"),
        Int16("ErrorCode", "7+"),
        Int32("SessionId", "7+"),
        Array("Responses", "0+",
            String("Topic", "0-12"),
            Uuid("TopicId", "13+"),
            Array("Partitions", "0+",
                Int32("PartitionIndex", "0+"),
                Int16("ErrorCode", "0+"),
                Int64("HighWatermark", "0+"),
                Int64("LastStableOffset", "4+", -1),
                Int64("LogStartOffset", "5+", -1),
                Struct("DivergingEpoch", "12+",
                    Int32("Epoch", "12+", -1),
                    Int64("EndOffset", "12+", -1)).Tagged(0),
                Struct("CurrentLeader", "12+",
                    Int32("LeaderId", "12+", -1),
                    Int32("LeaderEpoch", "12+", -1)).Tagged(1),
                Struct("SnapshotId", "12+",
                    Int64("EndOffset", "12+", -1),
                    Int32("Epoch", "12+", -1)).Tagged(2),
                Array("AbortedTransactions", "4+",
                    Int64("ProducerId", "4+"),
                    Int64("FirstOffset", "4+")).Nullable("4+"),
                Int32("PreferredReadReplica", "11+", -1),
                F.Records("Records", "0+").Nullable("0+"))),
        ProduceApi.NodeEndpoints("16+").Tagged(0));
}
