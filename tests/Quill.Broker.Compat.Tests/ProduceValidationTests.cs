using System.Buffers.Binary;
using System.IO.Compression;
using Confluent.Kafka;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol.Schema;

using static Quill.Broker.Compat.Tests.RawRequests;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// What the broker checks inside produced batches before it acknowledges them, as Kafka's LogValidator does: every
/// record decodes (compressed batches too), compacted topics get keys (with RecordErrors naming the records), the max
/// timestamp is the records' own, and zstd needs Produce v7.
/// </summary>
public sealed class ProduceValidationTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;

    [Theory]
    [InlineData("key length 2^31-1")]
    [InlineData("gzip that does not inflate")]
    [InlineData("one record fewer than the header says")]
    [InlineData("bytes after the last record")]
    public async Task A_batch_with_a_right_crc_whose_records_do_not_decode_is_CORRUPT_MESSAGE_and_the_partition_stays_readable(string kind)
    {
        string topic = Clients.NewTopic("undecodable");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        Assert.Equal((short)0, (await ProduceAsync(connection, topic, 9, Batch(3, 1_700_000_000_000))).GetInt16("ErrorCode"));

        var bad = kind switch
        {
            "key length 2^31-1" => KeyLengthMax(),
            "gzip that does not inflate" => WithRecords(Batch(2, 1_700_000_001_000, Quill.Kafka.Protocol.Records.CompressionType.Gzip),
                [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            "one record fewer than the header says" => WithCount(Batch(2, 1_700_000_001_000), 3),
            _ => WithRecords(Batch(2, 1_700_000_001_000), [.. RecordsOf(Batch(2, 1_700_000_001_000)), 0, 0]),
        };
        Assert.True(RecordBatch.Read(bad).IsCrcValid, "the test batch must pass the CRC check so the records are what is wrong");
        var refused = await ProduceAsync(connection, topic, 9, bad);
        Assert.Equal((short)KafkaError.CorruptMessage, refused.GetInt16("ErrorCode"));
        Assert.False(string.IsNullOrEmpty(refused.GetString("ErrorMessage")));

        // Nothing was stored: ListOffsets by timestamp and Fetch answer on the same connection, and a consumer reads on.
        Assert.Equal(3, await OffsetForTimestampAsync(connection, topic, -1));
        Assert.Equal(-1, await OffsetForTimestampAsync(connection, topic, 1_700_000_000_500));
        Assert.Equal(0, await OffsetForTimestampAsync(connection, topic, 1_600_000_000_000));
        Assert.Equal((short)0, (await ProduceAsync(connection, topic, 9, Batch(2, 1_700_000_002_000))).GetInt16("ErrorCode"));
        Assert.Equal(3, await OffsetForTimestampAsync(connection, topic, 1_700_000_001_500));
        Assert.Equal(5, Clients.ConsumeFromStart(_broker.BootstrapServers, topic, 1, 5).Count);
        Assert.True(_broker.IsRunning);
    }

    [Fact]
    public async Task A_batch_whose_max_timestamp_is_minus_one_is_stored_with_its_records_max_and_found_by_timestamp()
    {
        string topic = Clients.NewTopic("maxts");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var batch = Batch(4, 1_700_000_000_000);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(35), -1); // as some older producers leave it
        Resign(batch);
        Assert.Equal((short)0, (await ProduceAsync(connection, topic, 9, batch)).GetInt16("ErrorCode"));

        Assert.Equal(2, await OffsetForTimestampAsync(connection, topic, 1_700_000_000_002));
        var stored = Assert.Single(RecordBatch.ReadAll(await FetchRecordsAsync(connection, topic)));
        Assert.Equal(1_700_000_000_003, stored.MaxTimestamp);
        Assert.True(stored.IsCrcValid);
    }

    [Fact]
    public async Task Zstd_below_produce_v7_is_UNSUPPORTED_COMPRESSION_TYPE_and_accepted_from_v7()
    {
        string topic = Clients.NewTopic("zstd");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var zstd = Batch(2, 1_700_000_000_000, Quill.Kafka.Protocol.Records.CompressionType.Zstd);
        foreach (short version in new short[] { 3, 6 })
            Assert.Equal((short)KafkaError.UnsupportedCompressionType, (await ProduceAsync(connection, topic, version, zstd)).GetInt16("ErrorCode"));
        Assert.Equal((short)0, (await ProduceAsync(connection, topic, 7, zstd)).GetInt16("ErrorCode"));
        Assert.Equal(2, await OffsetForTimestampAsync(connection, topic, -1));
    }

    [Fact]
    public async Task Two_batches_for_one_partition_in_produce_v3_and_later_are_INVALID_RECORD()
    {
        string topic = Clients.NewTopic("twobatches");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        byte[] two = [.. Batch(1, 1), .. Batch(1, 2)];
        Assert.Equal((short)KafkaError.InvalidRecord, (await ProduceAsync(connection, topic, 9, two)).GetInt16("ErrorCode"));
        Assert.Equal(0, await OffsetForTimestampAsync(connection, topic, -1));
    }

    [Fact]
    public async Task Keyless_records_on_a_compacted_topic_are_named_in_RecordErrors_on_the_wire()
    {
        string topic = Clients.NewTopic("compacted-raw");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1, new() { ["cleanup.policy"] = "compact" });
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var batch = new RecordBatchBuilder()
            .Add(1, Bytes("a"), Bytes("1")).Add(2, null, Bytes("2")).Add(3, Bytes("c"), Bytes("3")).Add(4, null, Bytes("4"))
            .Build();
        var refused = await ProduceAsync(connection, topic, 9, batch);
        Assert.Equal((short)KafkaError.InvalidRecord, refused.GetInt16("ErrorCode"));
        Assert.Equal([1, 3], refused.GetArray("RecordErrors")!.Select(e => e.GetInt32("BatchIndex")));
        Assert.All(refused.GetArray("RecordErrors")!, e => Assert.Contains("key", e.GetString("BatchIndexErrorMessage")));
        // v7 has no RecordErrors: the same refusal, without the list.
        Assert.Equal((short)KafkaError.InvalidRecord, (await ProduceAsync(connection, topic, 7, batch)).GetInt16("ErrorCode"));
        Assert.Equal(0, await OffsetForTimestampAsync(connection, topic, -1));
    }

    [Fact]
    public async Task Librdkafka_fails_exactly_the_keyless_records_of_a_batch_to_a_compacted_topic()
    {
        string topic = Clients.NewTopic("compacted-client");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1, new() { ["cleanup.policy"] = "compact" });
        // A long linger puts the four messages in one batch. (With a single culprit, librdkafka 2.16 fails the whole
        // batch with the partition's error; with two or more it names them and fails the rest as a different record.)
        using var producer = Clients.Producer(_broker.BootstrapServers, c => { c.LingerMs = 500; c.MessageSendMaxRetries = 0; });
        var reports = new DeliveryReport<string, string>?[4];
        for (int i = 0; i < 4; i++)
        {
            int index = i;
            producer.Produce(topic, new Message<string, string> { Key = i % 2 == 1 ? null! : $"k{i}", Value = $"v{i}" }, r => reports[index] = r);
        }
        Assert.Equal(0, producer.Flush(Clients.Timeout));

        Assert.Equal([ErrorCode.Local_InvalidDifferentRecord, ErrorCode.InvalidRecord, ErrorCode.Local_InvalidDifferentRecord, ErrorCode.InvalidRecord],
            reports.Select(r => r!.Error.Code));

        // The keyed records go in when sent again on their own.
        foreach (int i in new[] { 0, 2 })
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" })).Status);
    }

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private static byte[] Batch(int count, long firstTimestamp, Quill.Kafka.Protocol.Records.CompressionType compression = Quill.Kafka.Protocol.Records.CompressionType.None)
    {
        var builder = new RecordBatchBuilder(compression);
        for (int i = 0; i < count; i++) builder.Add(firstTimestamp + i, Bytes($"k{i}"), Bytes($"value-{i}"));
        return builder.Build();
    }

    private static byte[] RecordsOf(byte[] batch) => batch[RecordBatch.HeaderSize..];

    /// <summary>The batch's header over other record bytes, with batchLength and the CRC made right for them.</summary>
    private static byte[] WithRecords(byte[] batch, byte[] records)
    {
        byte[] result = [.. batch[..RecordBatch.HeaderSize], .. records];
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(8), result.Length - RecordBatch.LogOverhead);
        Resign(result);
        return result;
    }

    private static byte[] WithCount(byte[] batch, int count)
    {
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(23), count - 1);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(57), count);
        Resign(batch);
        return batch;
    }

    /// <summary>One record whose key length varint says int.MaxValue: well framed as a record, impossible inside it.</summary>
    private static byte[] KeyLengthMax()
    {
        byte[] body = [0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0, 0]; // attributes, ts delta, offset delta, key length zigzag(2^31-1), ...
        byte[] record = [(byte)(body.Length * 2), .. body];
        return WithRecords(WithCount(Batch(1, 1_700_000_001_000), 1), record);
    }

    private static void Resign(byte[] batch) =>
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), Crc32C.Compute(batch.AsSpan(21)));

    private static async Task<ReadOnlyMemory<byte>> FetchRecordsAsync(RawKafkaConnection connection, string topic)
    {
        var partition = await FetchAsync(connection, topic, 11, 0);
        return partition.GetBytes("Records")!.Value;
    }
}
