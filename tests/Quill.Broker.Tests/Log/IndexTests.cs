using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

public sealed class IndexTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Offset_index_is_sparse_and_lookups_find_the_floor_entry()
    {
        string path = Path.Combine(_dir.Path, "0.index");
        using (var index = new OffsetIndex(path, 100, 1024))
        {
            index.Append(110, 400);
            index.Append(130, 900);
            index.Append(131, 1000);
            Assert.Equal((100L, 0), index.Lookup(105));
            Assert.Equal((110L, 400), index.Lookup(110));
            Assert.Equal((110L, 400), index.Lookup(129));
            Assert.Equal((131L, 1000), index.Lookup(5000));
            Assert.Equal((130L, 900), index.LookupByPosition(999));
            Assert.Throws<InvalidOperationException>(() => index.Append(131, 2000));
        }
        Assert.Equal(3 * OffsetIndex.EntrySize, new FileInfo(path).Length);
        using var reopened = new OffsetIndex(path, 100, 1024);
        Assert.Equal(3, reopened.Count);
        Assert.Equal((130L, 900), reopened.Lookup(130));
        Assert.True(reopened.IsSane(1001));
        Assert.False(reopened.IsSane(1000)); // an entry pointing past the log is a bad index
    }

    [Fact]
    public void Segments_index_a_batch_every_index_interval_bytes()
    {
        using var log = PartitionLog.Open(_dir.Partition(), "t", 0, new LogConfig { IndexIntervalBytes = 4096 }, _clock);
        for (int i = 0; i < 100; i++) log.Append(Batches.Sized(1000, timestamp: 10_000 + i));
        var segment = log.ActiveSegment;
        // An entry once more than 4096 bytes went by since the last: every 5th ~1070-byte batch.
        Assert.InRange(segment.OffsetIndex.Count, 15, 25);
        for (int i = 0; i < segment.OffsetIndex.Count; i++)
        {
            var (offset, position) = segment.OffsetIndex[i];
            var header = segment.ReadHeader(position, segment.Size)!.Value;
            Assert.Equal(offset, header.LastOffset); // each entry points at the start of its batch
        }
        Assert.True(segment.TimeIndex.Count >= segment.OffsetIndex.Count);
        for (int i = 1; i < segment.TimeIndex.Count; i++) Assert.True(segment.TimeIndex[i].Timestamp > segment.TimeIndex[i - 1].Timestamp);
    }

    [Fact]
    public void List_offsets_earliest_latest_and_by_timestamp_through_the_time_index()
    {
        using var log = PartitionLog.Open(_dir.Partition(), "t", 0, new LogConfig { SegmentBytes = 1024, IndexIntervalBytes = 200 }, _clock);
        // Batch i holds 3 records with timestamps 1000*i, 1000*i+1, 1000*i+2 at offsets 3i..3i+2.
        for (int i = 0; i < 60; i++)
            log.Append(Batches.Make(i % 2 == 0 ? CompressionType.None : CompressionType.Lz4, 1000L * i, "a", "b", "c"));
        Assert.True(log.Segments.Count > 3);

        Assert.Equal(new TimestampAndOffset(-1, 0), log.FetchOffsetByTimestamp(PartitionLog.EarliestTimestamp));
        Assert.Equal(new TimestampAndOffset(-1, 180), log.FetchOffsetByTimestamp(PartitionLog.LatestTimestamp));
        Assert.Equal(new TimestampAndOffset(0, 0), log.FetchOffsetByTimestamp(0));
        Assert.Equal(new TimestampAndOffset(7000, 21), log.FetchOffsetByTimestamp(6500));
        Assert.Equal(new TimestampAndOffset(42001, 127), log.FetchOffsetByTimestamp(42001));
        Assert.Equal(new TimestampAndOffset(59002, 179), log.FetchOffsetByTimestamp(59002));
        Assert.Null(log.FetchOffsetByTimestamp(59003));
        Assert.Equal(59002, log.FetchOffsetByTimestamp(PartitionLog.MaxTimestampQuery)!.Value.Timestamp);

        // Every query agrees with a brute-force scan.
        var all = Batches.ReadAll(log);
        for (long ts = 0; ts <= 59_002; ts += 377)
        {
            var expected = all.First(r => r.Timestamp >= ts);
            Assert.Equal(new TimestampAndOffset(expected.Timestamp, expected.Offset), log.FetchOffsetByTimestamp(ts));
        }
    }
}
