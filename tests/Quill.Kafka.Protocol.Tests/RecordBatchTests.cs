using System.Text;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Kafka.Protocol.Tests;

public class RecordBatchTests
{
    [Fact]
    public void Crc32C_matches_the_standard_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));            // RFC 3720 B.4: 32 zero bytes
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xff, 32).ToArray())); // 32 bytes of 0xff
        var data = Encoding.ASCII.GetBytes("the quick brown fox jumps over the lazy dog");
        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, 13)), data.AsSpan(13)));
    }

    private static RecordBatchBuilder Sample(CompressionType compression) =>
        new RecordBatchBuilder(compression)
        {
            BaseOffset = 0,
            ProducerId = 4000,
            ProducerEpoch = 2,
            BaseSequence = 17,
            IsTransactional = true,
        }
        .Add(1_700_000_000_000, Encoding.UTF8.GetBytes("k1"), Encoding.UTF8.GetBytes("value one"),
            new RecordHeader("trace", Encoding.UTF8.GetBytes("abc")), new RecordHeader("empty", null))
        .Add(1_700_000_000_005, null, Encoding.UTF8.GetBytes(new string('x', 5000)))
        .Add(1_699_999_999_990, Encoding.UTF8.GetBytes("k3"), null);

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void BatchBuiltWithEachCodecReadsBack(CompressionType compression)
    {
        var bytes = Sample(compression).Build();
        var batch = RecordBatch.Read(bytes);
        batch.Validate();
        Assert.Equal(bytes.Length, batch.SizeInBytes);
        Assert.Equal(compression, batch.Compression);
        Assert.Equal(2, batch.Magic);
        Assert.True(batch.IsTransactional);
        Assert.False(batch.IsControl);
        Assert.Equal(TimestampType.CreateTime, batch.TimestampType);
        Assert.Equal(3, batch.RecordCount);
        Assert.Equal(2, batch.LastOffsetDelta);
        Assert.Equal(1_699_999_999_990, batch.BaseTimestamp);
        Assert.Equal(1_700_000_000_005, batch.MaxTimestamp);
        Assert.Equal(4000, batch.ProducerId);
        Assert.Equal(2, batch.ProducerEpoch);
        Assert.Equal(17, batch.BaseSequence);
        Assert.Equal(-1, batch.PartitionLeaderEpoch);
        if (compression != CompressionType.None) Assert.True(batch.SizeInBytes < 2000, "5000 x's should compress");

        var records = batch.ReadRecords();
        Assert.Equal(3, records.Count);
        Assert.Equal([0L, 1L, 2L], records.Select(r => r.Offset));
        Assert.Equal("k1", Encoding.UTF8.GetString(records[0].Key!.Value.Span));
        Assert.Equal("value one", Encoding.UTF8.GetString(records[0].Value!.Value.Span));
        Assert.Equal(1_700_000_000_000, records[0].Timestamp);
        Assert.Equal("trace", records[0].Headers[0].Key);
        Assert.Equal("abc", Encoding.UTF8.GetString(records[0].Headers[0].Value!.Value.Span));
        Assert.Null(records[0].Headers[1].Value);
        Assert.Null(records[1].Key);
        Assert.Equal(5000, records[1].Value!.Value.Length);
        Assert.Null(records[2].Value);
        Assert.Equal(1_699_999_999_990, records[2].Timestamp);
    }

    [Fact]
    public void Offset_and_epoch_rewrite_keeps_the_crc_valid()
    {
        var bytes = Sample(CompressionType.Lz4).Build();
        uint crc = RecordBatch.Read(bytes).Crc;
        BatchHeader.WriteBaseOffset(bytes, 1_000_000);
        BatchHeader.WritePartitionLeaderEpoch(bytes, 9);
        var batch = RecordBatch.Read(bytes);
        Assert.Equal(1_000_000, batch.BaseOffset);
        Assert.Equal(1_000_002, batch.LastOffset);
        Assert.Equal(9, batch.PartitionLeaderEpoch);
        Assert.Equal(crc, batch.Crc);
        Assert.True(batch.IsCrcValid);
        Assert.Equal([1_000_000L, 1_000_001L, 1_000_002L], batch.ReadRecords().Select(r => r.Offset));
    }

    [Fact]
    public void LogAppendTime_rewrite_recomputes_the_crc()
    {
        var bytes = Sample(CompressionType.None).Build();
        BatchHeader.WriteMaxTimestamp(bytes, bytes.AsSpan(BatchHeader.Size), 1_800_000_000_000, logAppendTime: true);
        var batch = RecordBatch.Read(bytes);
        batch.Validate();
        Assert.Equal(TimestampType.LogAppendTime, batch.TimestampType);
        Assert.All(batch.ReadRecords(), r => Assert.Equal(1_800_000_000_000, r.Timestamp));
    }

    [Fact]
    public void Corruption_is_caught_by_the_crc()
    {
        var bytes = Sample(CompressionType.None).Build();
        bytes[^3] ^= 0x40;
        var error = Assert.Throws<KafkaProtocolException>(() => RecordBatch.Read(bytes).Validate());
        Assert.Contains("CRC", error.Message);
    }

    [Fact]
    public void Records_field_splits_into_batches()
    {
        var first = Sample(CompressionType.None).Build();
        var second = new RecordBatchBuilder(CompressionType.Zstd) { BaseOffset = 3 }.Add(5, null, new byte[] { 1 }).Build();
        var both = first.Concat(second).ToArray();
        var batches = RecordBatch.ReadAll(both);
        Assert.Equal(2, batches.Count);
        Assert.Equal(3, batches[1].BaseOffset);

        // A fetch response may end in a partial batch: skipped when allowed, an error otherwise.
        var truncated = both.AsMemory(0, both.Length - 5);
        Assert.Single(RecordBatch.ReadAll(truncated, allowPartialTail: true));
        Assert.Throws<KafkaProtocolException>(() => RecordBatch.ReadAll(truncated));
    }

    [Fact]
    public void Old_magic_is_rejected()
    {
        var bytes = Sample(CompressionType.None).Build();
        bytes[16] = 1;
        Assert.Contains("magic 1", Assert.Throws<KafkaProtocolException>(() => RecordBatch.Read(bytes)).Message);
    }

    [Fact]
    public void Raw_snappy_blocks_are_read_as_well_as_xerial_framing()
    {
        var plain = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("snappy raw block ", 100)));
        var raw = Snappier.Snappy.CompressToArray(plain);
        Assert.Equal(plain, Compression.Decompress(CompressionType.Snappy, raw));

        using var framed = new KafkaWriter();
        Compression.Compress(CompressionType.Snappy, plain, framed);
        Assert.Equal(0x82, framed.WrittenSpan[0]);
        Assert.Equal("SNAPPY", Encoding.ASCII.GetString(framed.WrittenSpan.Slice(1, 6)));
        Assert.Equal(plain, Compression.Decompress(CompressionType.Snappy, framed.ToArray()));
    }

    [Fact]
    public void Lz4_uses_the_standard_frame_format()
    {
        using var writer = new KafkaWriter();
        Compression.Compress(CompressionType.Lz4, "hello hello hello"u8, writer);
        Assert.Equal(new byte[] { 0x04, 0x22, 0x4d, 0x18 }, writer.WrittenSpan[..4].ToArray()); // magic 0x184D2204 LE
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void DecompressionStopsAtTheLimit(CompressionType type)
    {
        var big = new byte[1_000_000];
        using var writer = new KafkaWriter();
        Compression.Compress(type, big, writer);
        Assert.Throws<KafkaProtocolException>(() => Compression.Decompress(type, writer.ToArray(), maxSize: 100_000));
        Assert.Equal(big.Length, Compression.Decompress(type, writer.ToArray()).Length);
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void GarbageIsAProtocolErrorForEveryCodec(CompressionType type)
    {
        var random = new Random(5);
        int rejected = 0;
        for (int i = 0; i < 200; i++)
        {
            var garbage = new byte[random.Next(0, 64)];
            random.NextBytes(garbage);
            try
            {
                // Only an empty input (and, for gzip, a lone byte) passes, and it holds nothing.
                Assert.Empty(Compression.Decompress(type, garbage, maxSize: 1 << 20));
            }
            catch (KafkaProtocolException)
            {
                rejected++;
            }
        }
        Assert.True(rejected > 180, $"only {rejected} of 200 garbage inputs were rejected");
    }
}
