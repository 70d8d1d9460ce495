using Quill.Broker.Transactions;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.CoordinatorRecords;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Transactions;

/// <summary>
/// <c>__transaction_state</c> records written with the generated classes are byte for byte what the interpreting codec
/// writes from the published descriptions (which the coordinator wrote with before), and read back; values of a later
/// version (tagged fields) still read.
/// </summary>
public sealed class TransactionLogRecordsTests
{
    private static TransactionMetadata Txn(params (string Topic, int Partition)[] partitions)
    {
        var txn = new TransactionMetadata("tx-1")
        {
            ProducerId = 4000, ProducerEpoch = 3, TimeoutMs = 60000, State = TransactionState.Ongoing,
            LastUpdateTimestampMs = 1_700_000_000_123, StartTimestampMs = 1_700_000_000_001,
        };
        foreach (var p in partitions) txn.Partitions.Add(p);
        return txn;
    }

    private static byte[] Interpreted(MessageSchema schema, short version, StructValue value)
    {
        using var writer = new KafkaWriter(128);
        writer.WriteInt16(version);
        MessageCodec.Encode(schema, version, value, writer);
        return writer.ToArray();
    }

    [Fact]
    public void KeysAreTheInterpretedBytes()
    {
        var expected = Interpreted(CoordinatorRecordSchemas.TransactionLogKey, 0,
            CoordinatorRecordSchemas.TransactionLogKey.New().SetString("TransactionalId", "tx-1"));
        Assert.Equal(expected, TransactionLogRecords.KeyOf("tx-1"));
        Assert.Equal("tx-1", TransactionLogRecords.ReadKey(expected));
    }

    [Fact]
    public void KeysOfAnotherVersionAreRefused() =>
        Assert.Throws<KafkaProtocolException>(() => TransactionLogRecords.ReadKey(new byte[] { 0, 1, 0, 1, (byte)'x' }));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ValuesAreTheInterpretedBytes(bool withPartitions)
    {
        var txn = withPartitions ? Txn(("b", 2), ("a", 1), ("b", 0), ("a", 0)) : Txn();
        var schema = CoordinatorRecordSchemas.TransactionLogValue;
        var value = schema.New()
            .SetInt("ProducerId", 4000).SetInt("ProducerEpoch", 3).SetInt("TransactionTimeoutMs", 60000)
            .SetInt("TransactionStatus", (sbyte)TransactionState.Ongoing)
            .SetInt("TransactionLastUpdateTimestampMs", 1_700_000_000_123).SetInt("TransactionStartTimestampMs", 1_700_000_000_001);
        if (withPartitions)
        {
            value.AddElement("TransactionPartitions").SetString("Topic", "a").SetInt32Array("PartitionIds", [0, 1]);
            value.AddElement("TransactionPartitions").SetString("Topic", "b").SetInt32Array("PartitionIds", [0, 2]);
        }
        else
        {
            value.SetArray("TransactionPartitions", null);
        }
        var bytes = TransactionLogRecords.ValueOf(txn);
        Assert.Equal(Interpreted(schema, 0, value), bytes);

        var read = TransactionLogRecords.ReadValue("tx-1", bytes);
        Assert.Equal((txn.ProducerId, txn.ProducerEpoch, txn.TimeoutMs, txn.State, txn.LastUpdateTimestampMs, txn.StartTimestampMs),
            (read.ProducerId, read.ProducerEpoch, read.TimeoutMs, read.State, read.LastUpdateTimestampMs, read.StartTimestampMs));
        Assert.Equal(txn.Partitions.Order(), read.Partitions.Order());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void LaterValueVersionsAreRead(short version)
    {
        var schema = CoordinatorRecordSchemas.TransactionLogValue;
        var value = schema.New()
            .SetInt("ProducerId", 7).SetInt("ProducerEpoch", 1).SetInt("TransactionTimeoutMs", 1000)
            .SetInt("TransactionStatus", (sbyte)TransactionState.CompleteCommit)
            .SetInt("TransactionLastUpdateTimestampMs", 5).SetInt("TransactionStartTimestampMs", 4);
        value.AddElement("TransactionPartitions").SetString("Topic", "t").SetInt32Array("PartitionIds", [3]);
        var bytes = Interpreted(schema, 1, value);
        bytes[1] = (byte)version; // a later version adds only tagged fields: read as the last one described
        var read = TransactionLogRecords.ReadValue("tx", bytes);
        Assert.Equal((7L, (short)1, TransactionState.CompleteCommit, 5L, 4L), (read.ProducerId, read.ProducerEpoch, read.State, read.LastUpdateTimestampMs, read.StartTimestampMs));
        Assert.Equal([("t", 3)], read.Partitions);
    }
}
