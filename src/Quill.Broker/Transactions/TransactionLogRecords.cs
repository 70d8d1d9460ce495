using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Broker.Transactions;

/// <summary>
/// The records of <c>__transaction_state</c> in Kafka's formats: key = int16 version 0 + the transactional id;
/// value = int16 version 0 + TransactionLogValue v0 (producer id and epoch, timeout, status, the partitions of the
/// current transaction, last-update and start timestamps). A null value is a tombstone.
/// </summary>
internal static class TransactionLogRecords
{
    private const short KeyVersion = 0, ValueVersion = 0;

    public static byte[] KeyOf(string transactionalId)
    {
        using var writer = new KafkaWriter(128);
        writer.WriteInt16(KeyVersion);
        new TransactionLogKeyData { TransactionalId = transactionalId }.Write(writer, KeyVersion);
        return writer.ToArray();
    }

    public static byte[] ValueOf(TransactionMetadata txn)
    {
        var value = new TransactionLogValueData
        {
            ProducerId = txn.ProducerId,
            ProducerEpoch = txn.ProducerEpoch,
            TransactionTimeoutMs = txn.TimeoutMs,
            TransactionStatus = (sbyte)txn.State,
            TransactionLastUpdateTimestampMs = txn.LastUpdateTimestampMs,
            TransactionStartTimestampMs = txn.StartTimestampMs,
            // No partitions: a null array, as these records have always been written.
            TransactionPartitions = txn.Partitions.Count == 0 ? null : [],
        };
        foreach (var topic in txn.Partitions.GroupBy(p => p.Topic).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            value.TransactionPartitions!.Add(new TransactionLogValueData.TransactionPartitionsItem
            {
                Topic = topic.Key, PartitionIds = [.. topic.Select(p => p.Partition).Order()],
            });
        }
        using var writer = new KafkaWriter(128);
        writer.WriteInt16(ValueVersion);
        value.Write(writer, ValueVersion);
        return writer.ToArray();
    }

    /// <summary>The transactional id of a key; throws <see cref="KafkaProtocolException"/> if it is not a version 0 key.</summary>
    public static string ReadKey(ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        if (version != KeyVersion) throw new KafkaProtocolException($"transaction log key version {version} is unknown");
        return TransactionLogKeyData.Read(ref reader, KeyVersion).TransactionalId;
    }

    public static TransactionMetadata ReadValue(string transactionalId, ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        if (version < 0) throw new KafkaProtocolException($"transaction log value version {version} is invalid");
        // Version 1 only adds tagged fields.
        var value = TransactionLogValueData.Read(ref reader, Math.Min(version, TransactionLogValueData.HighestSupportedVersion));
        var txn = new TransactionMetadata(transactionalId)
        {
            ProducerId = value.ProducerId,
            ProducerEpoch = value.ProducerEpoch,
            TimeoutMs = value.TransactionTimeoutMs,
            State = (TransactionState)value.TransactionStatus,
            LastUpdateTimestampMs = value.TransactionLastUpdateTimestampMs,
            StartTimestampMs = value.TransactionStartTimestampMs,
        };
        foreach (var topic in value.TransactionPartitions ?? [])
            foreach (int partition in topic.PartitionIds)
                txn.Partitions.Add((topic.Topic, partition));
        return txn;
    }
}
