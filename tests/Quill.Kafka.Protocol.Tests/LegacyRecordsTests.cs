using System.Buffers.Binary;
using System.IO.Hashing;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Kafka.Protocol.Tests;

public sealed class LegacyRecordsTests
{
    [Fact]
    public void Down_conversion_writes_each_record_from_the_fetch_offset_as_a_message_with_its_own_crc_and_skips_control_batches()
    {
        var data = new RecordBatchBuilder { BaseOffset = 10 }
            .Add(1000, new byte[] { 1 }, new byte[] { 2 }).Add(1001, null, new byte[] { 3 }).Add(1002, new byte[] { 4 }, null).Build();
        var control = new RecordBatchBuilder { BaseOffset = 13, IsControl = true, ProducerId = 5 }.Add(1003, new byte[] { 0, 0, 0, 0 }, new byte[] { 0, 0, 0, 0, 0, 0 }).Build();
        using var output = new KafkaWriter();
        Assert.Equal(2, LegacyRecords.WriteDownConverted((byte[])[.. data, .. control], 1, 11, output));

        var bytes = output.ToArray();
        int p = 0;
        foreach (var (offset, timestamp, key, value) in new (long, long, byte[]?, byte[]?)[] { (11, 1001, null, [3]), (12, 1002, [4], null) })
        {
            Assert.Equal(offset, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(p)));
            int size = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(p + 8));
            Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(p + 12)), Crc32.HashToUInt32(bytes.AsSpan(p + 16, size - 4)));
            Assert.Equal(1, bytes[p + 16]);
            Assert.Equal(timestamp, BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(p + 18)));
            int q = p + 26;
            foreach (var field in new[] { key, value })
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(q));
                Assert.Equal(field?.Length ?? -1, length);
                q += 4 + Math.Max(0, length);
            }
            p += 12 + size;
            Assert.Equal(p, q);
        }
        Assert.Equal(bytes.Length, p);
    }

    [Fact]
    public void Magic_0_down_conversion_has_no_timestamp_and_up_conversion_gives_the_records_back()
    {
        var data = new RecordBatchBuilder().Add(-1, new byte[] { 7 }, new byte[] { 8, 9 }).Add(-1, null, null).Build();
        using var output = new KafkaWriter();
        LegacyRecords.WriteDownConverted(data, 0, 0, output);
        Assert.Equal(0, LegacyRecords.MagicOf(output.WrittenSpan));
        var batch = RecordBatch.Read(LegacyRecords.ToBatch(output.ToArray()));
        Assert.True(batch.IsCrcValid);
        var records = batch.ReadRecords();
        Assert.Equal(2, records.Count);
        Assert.Equal(new byte[] { 7 }, records[0].Key!.Value.ToArray());
        Assert.Equal(new byte[] { 8, 9 }, records[0].Value!.Value.ToArray());
        Assert.Null(records[1].Key);
        Assert.Null(records[1].Value);
        Assert.All(records, r => Assert.Equal(-1, r.Timestamp));
    }

    [Fact]
    public void Up_conversion_refuses_magic_2_inside_and_an_empty_set()
    {
        var batch = new RecordBatchBuilder().Add(1, null, new byte[] { 1 }).Build();
        Assert.Throws<KafkaProtocolException>(() => LegacyRecords.ToBatch(batch));
        Assert.Throws<KafkaProtocolException>(() => LegacyRecords.ToBatch(ReadOnlyMemory<byte>.Empty));
    }
}
