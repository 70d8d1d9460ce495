using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Broker.Transactions;

/// <summary>
/// The records of <c>__transaction_state</c> in Kafka's formats: key = int16 version 0 + the transactional id;
/// value = int16 version 0 + TransactionLogValue v0 (producer id and epoch, timeout, status, the partitions of the
/// current transaction, last-update and start timestamps). A null value is a tombstone.
/// </summary>
internal static class TransactionLogRecords
{
    private const short KeyVersion = 0, ValueVersion = 0;

    private static readonly MessageSchema Key = new("TransactionLogKey", "0", "none",
        String("TransactionalId", "0"));

    private static readonly MessageSchema Value = new("TransactionLogValue", "0-1", "1+",
        Int64("ProducerId", "0+"),
        Int16("ProducerEpoch", "0+"),
        Int32("TransactionTimeoutMs", "0+"),
        Int8("TransactionStatus", "0+"),
        Array("TransactionPartitions", "0+",
            String("Topic", "0+"),
            Int32Array("PartitionIds", "0+")).Nullable("0+"),
        Int64("TransactionLastUpdateTimestampMs", "0+"),
        Int64("TransactionStartTimestampMs", "0+"));

    public static byte[] KeyOf(string transactionalId) =>
        Encode(Key, KeyVersion, Key.New().SetString("TransactionalId", transactionalId));

    public static byte[] ValueOf(TransactionMetadata txn)
    {
        var value = Value.New()
            .SetInt("ProducerId", txn.ProducerId)
            .SetInt("ProducerEpoch", txn.ProducerEpoch)
            .SetInt("TransactionTimeoutMs", txn.TimeoutMs)
            .SetInt("TransactionStatus", (sbyte)txn.State)
            .SetInt("TransactionLastUpdateTimestampMs", txn.LastUpdateTimestampMs)
            .SetInt("TransactionStartTimestampMs", txn.StartTimestampMs);
        if (txn.Partitions.Count == 0) value.SetArray("TransactionPartitions", null);
        foreach (var topic in txn.Partitions.GroupBy(p => p.Topic).OrderBy(g => g.Key, StringComparer.Ordinal))
            value.AddElement("TransactionPartitions").SetString("Topic", topic.Key).SetInt32Array("PartitionIds", [.. topic.Select(p => p.Partition).Order()]);
        return Encode(Value, ValueVersion, value);
    }

    /// <summary>The transactional id of a key; throws <see cref="KafkaProtocolException"/> if it is not a version 0 key.</summary>
    public static string ReadKey(ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        if (version != KeyVersion) throw new KafkaProtocolException($"transaction log key version {version} is unknown");
        return MessageCodec.Decode(Key, 0, ref reader).GetString("TransactionalId") ?? "";
    }

    public static TransactionMetadata ReadValue(string transactionalId, ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        if (version < 0) throw new KafkaProtocolException($"transaction log value version {version} is invalid");
        // Version 1 only adds tagged fields.
        var value = MessageCodec.Decode(Value, Math.Min(version, Value.ValidVersions.Max), ref reader);
        var txn = new TransactionMetadata(transactionalId)
        {
            ProducerId = value.GetInt64("ProducerId"),
            ProducerEpoch = value.GetInt16("ProducerEpoch"),
            TimeoutMs = value.GetInt32("TransactionTimeoutMs"),
            State = (TransactionState)value.GetInt8("TransactionStatus"),
            LastUpdateTimestampMs = value.GetInt64("TransactionLastUpdateTimestampMs"),
            StartTimestampMs = value.GetInt64("TransactionStartTimestampMs"),
        };
        foreach (var topic in value.GetArray("TransactionPartitions") ?? [])
            foreach (int partition in topic.GetInt32Array("PartitionIds") ?? [])
                txn.Partitions.Add((topic.GetString("Topic") ?? "", partition));
        return txn;
    }

    private static byte[] Encode(MessageSchema schema, short version, StructValue value)
    {
        using var writer = new KafkaWriter(128);
        writer.WriteInt16(version);
        MessageCodec.Encode(schema, version, value, writer);
        return writer.ToArray();
    }
}
