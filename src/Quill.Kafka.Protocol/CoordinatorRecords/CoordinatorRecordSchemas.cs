using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.CoordinatorRecords;

/// <summary>
/// The bodies of the records in <c>__consumer_offsets</c> and <c>__transaction_state</c>, in Kafka's formats, described
/// like the API messages so that typed classes can be generated from them. Each key and value on disk is an int16
/// version followed by the body. Public so that the message generator can see them; the broker's coordinators
/// (OffsetsRecords, TransactionLogRecords) read and write them through the generated classes.
/// </summary>
public static class CoordinatorRecordSchemas
{
    /// <summary>Key versions 0 and 1: an offset commit of {group, topic, partition}.</summary>
    public static readonly MessageSchema OffsetCommitKey = new("OffsetCommitKey", "0", "none",
        String("group", "0"),
        String("topic", "0"),
        Int32("partition", "0"));

    /// <summary>Key version 2: a group's metadata.</summary>
    public static readonly MessageSchema GroupMetadataKey = new("GroupMetadataKey", "0", "none",
        String("group", "0"));

    public static readonly MessageSchema OffsetCommitValue = new("OffsetCommitValue", "0-4", "4+",
        Int64("offset", "0+"),
        Int32("leaderEpoch", "3+", -1),
        String("metadata", "0+"),
        Int64("commitTimestamp", "0+"),
        Int64("expireTimestamp", "1", -1));

    public static readonly MessageSchema GroupMetadataValue = new("GroupMetadataValue", "0-4", "4+",
        String("protocolType", "0+"),
        Int32("generation", "0+"),
        String("protocol", "0+").Nullable("0+"),
        String("leader", "0+").Nullable("0+"),
        Int64("currentStateTimestamp", "2+", -1),
        Array("members", "0+",
            String("memberId", "0+"),
            NullableString("groupInstanceId", "3+", "3+"),
            String("clientId", "0+"),
            String("clientHost", "0+"),
            Int32("rebalanceTimeout", "1+"),
            Int32("sessionTimeout", "0+"),
            Bytes("subscription", "0+"),
            Bytes("assignment", "0+")));

    public static readonly MessageSchema TransactionLogKey = new("TransactionLogKey", "0", "none",
        String("TransactionalId", "0"));

    /// <summary>Version 1 only adds tagged fields (none described).</summary>
    public static readonly MessageSchema TransactionLogValue = new("TransactionLogValue", "0-1", "1+",
        Int64("ProducerId", "0+"),
        Int16("ProducerEpoch", "0+"),
        Int32("TransactionTimeoutMs", "0+"),
        Int8("TransactionStatus", "0+"),
        Array("TransactionPartitions", "0+",
            String("Topic", "0+"),
            Int32Array("PartitionIds", "0+")).Nullable("0+"),
        Int64("TransactionLastUpdateTimestampMs", "0+"),
        Int64("TransactionStartTimestampMs", "0+"));

    public static readonly IReadOnlyList<MessageSchema> All =
        [OffsetCommitKey, GroupMetadataKey, OffsetCommitValue, GroupMetadataValue, TransactionLogKey, TransactionLogValue];
}
