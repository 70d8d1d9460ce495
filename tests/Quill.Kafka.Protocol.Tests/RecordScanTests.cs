using Quill.Kafka.Protocol.Records;

namespace Quill.Kafka.Protocol.Tests;

public sealed class RecordScanTests
{
    private static byte[] Records(out int count, out long baseTimestamp, params (long Ts, string? Key)[] records)
    {
        var builder = new RecordBatchBuilder();
        foreach (var (ts, key) in records)
            builder.Add(ts, key is null ? (ReadOnlyMemory<byte>?)null : System.Text.Encoding.UTF8.GetBytes(key), new byte[] { 1, 2 }, new RecordHeader("h", null));
        var batch = RecordBatch.Read(builder.Build());
        count = batch.RecordCount;
        baseTimestamp = batch.BaseTimestamp;
        return batch.RecordsSection.ToArray();
    }

    [Fact]
    public void Scan_returns_the_largest_record_timestamp_and_the_keyless_indexes()
    {
        var records = Records(out int count, out long baseTs, (50, "a"), (70, null), (60, "c"), (55, null));
        var keyless = new List<int>();
        Assert.Equal(70, RecordScan.Scan(records, count, baseTs, keyless));
        Assert.Equal([1, 3], keyless);
    }

    [Fact]
    public void Scan_refuses_fewer_records_than_counted_and_bytes_after_the_last()
    {
        var records = Records(out int count, out long baseTs, (1, "a"), (2, "b"));
        Assert.Throws<KafkaProtocolException>(() => RecordScan.Scan(records, count + 1, baseTs));
        Assert.Throws<KafkaProtocolException>(() => RecordScan.Scan((byte[])[.. records, 0], count, baseTs));
        Assert.Throws<KafkaProtocolException>(() => RecordScan.Scan(records, count - 1, baseTs));
    }

    [Fact]
    public void Scan_refuses_every_truncation_and_a_huge_key_length()
    {
        var records = Records(out int count, out long baseTs, (1, "abc"), (2, "def"));
        for (int length = 0; length < records.Length; length++)
            Assert.Throws<KafkaProtocolException>(() => RecordScan.Scan(records.AsMemory(0, length), count, baseTs));
        byte[] huge = [22, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0, 0];
        var e = Assert.Throws<KafkaProtocolException>(() => RecordScan.Scan(huge, 1, 0));
        Assert.Contains("record[0]", e.Message);
    }

    [Fact]
    public void Scan_refuses_a_null_header_key()
    {
        // length, attributes, ts delta, offset delta, key null, value null, one header with key length -1
        byte[] record = [14, 0, 0, 0, 1, 1, 2, 1, 1];
        Assert.Throws<KafkaProtocolException>(() => RecordScan.Scan(record, 1, 0));
    }
}
