using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

public sealed class CompactionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();

    public void Dispose() => _dir.Dispose();

    private PartitionLog Open() => PartitionLog.Open(_dir.Partition(), "t", 0,
        new LogConfig { SegmentBytes = 300, CleanupPolicy = CleanupPolicy.Compact, DeleteRetentionMs = 60_000 }, _clock);

    private static Dictionary<string, (long Offset, string Value)> Latest(IEnumerable<Quill.Kafka.Protocol.Records.Record> records)
    {
        var latest = new Dictionary<string, (long, string)>();
        foreach (var r in records) latest[Batches.Text(r.Key)] = (r.Offset, Batches.Text(r.Value));
        return latest;
    }

    [Fact]
    public void Compaction_keeps_the_latest_record_per_key_with_its_offset()
    {
        using var log = Open();
        var codecs = new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd };
        for (int round = 0; round < 10; round++)
            log.Append(Batches.Keyed(codecs[round % codecs.Length], _clock.NowMs,
                ("a", $"a{round}"), ("b", $"b{round}"), ($"unique{round}", "u")));
        log.Append(Batches.Keyed(_clock.NowMs, ("c", "c-in-active")));
        var before = Batches.ReadAll(log);
        long endBefore = log.LogEndOffset;
        Assert.True(log.Segments.Count > 3);

        var result = LogCleaner.Clean(log, _clock);

        Assert.True(result.SegmentsRewritten > 0);
        Assert.True(result.BytesAfter < result.BytesBefore);
        var after = Batches.ReadAll(log);
        Assert.Equal(endBefore, log.LogEndOffset);
        Assert.Equal(Latest(before), Latest(after));
        // Only one record per key is left outside the active segment, and offsets only ever grow.
        long activeBase = log.ActiveSegment.BaseOffset;
        var cleaned = after.Where(r => r.Offset < activeBase).ToList();
        Assert.Equal(cleaned.Count, cleaned.Select(r => Batches.Text(r.Key)).Distinct().Count());
        Assert.Equal(after.Select(r => r.Offset).Order(), after.Select(r => r.Offset));
        Assert.True(after.Count < before.Count);
        // Partly surviving batches were re-encoded with their own codec (and a valid CRC, checked by ReadAll).
        var cleanedCodecs = log.Segments.SkipLast(1)
            .SelectMany(s => RecordBatch.ReadAll(log.Read(s.BaseOffset, s.Size, s.NextOffset).Records.ToArray()))
            .Select(b => b.Compression).ToHashSet();
        Assert.Superset(new HashSet<CompressionType> { CompressionType.Gzip, CompressionType.Zstd }, cleanedCodecs);
        // Appends continue at the same offsets, and a reopened log agrees (its indexes match the new files).
        log.Append(Batches.Keyed(_clock.NowMs, ("a", "after")));
        log.Dispose();
        using var reopened = PartitionLog.Open(_dir.Partition(), "t", 0, log.Config, _clock);
        Assert.Equal("after", Latest(Batches.ReadAll(reopened))["a"].Value);
        Assert.All(reopened.Segments, s => Assert.True(s.OffsetIndex.IsSane(s.Size)));
    }

    [Fact]
    public void Tombstones_stay_for_delete_retention_ms_then_go()
    {
        using var log = Open();
        log.Append(Batches.Keyed(_clock.NowMs, ("gone", "v1"), ("kept", "v1")));
        log.Append(Batches.Keyed(_clock.NowMs, ("gone", null)));
        log.Roll();
        log.Append(Batches.Keyed(_clock.NowMs, ("other", "x")));

        LogCleaner.Clean(log, _clock);
        var afterFirst = Batches.ReadAll(log);
        Assert.Contains(afterFirst, r => Batches.Text(r.Key) == "gone" && r.Value is null); // the delete is still visible
        Assert.DoesNotContain(afterFirst, r => Batches.Text(r.Key) == "gone" && r.Value is not null);

        _clock.Advance(60_001);
        LogCleaner.Clean(log, _clock);

        var afterSecond = Batches.ReadAll(log);
        Assert.DoesNotContain(afterSecond, r => Batches.Text(r.Key) == "gone");
        Assert.Contains(afterSecond, r => Batches.Text(r.Key) == "kept");
        Assert.Contains(afterSecond, r => Batches.Text(r.Key) == "other");
    }

    [Fact]
    public void A_leftover_cleaned_file_from_a_crash_is_discarded_at_load()
    {
        using (var log = Open())
        {
            for (int i = 0; i < 10; i++) log.Append(Batches.Keyed(_clock.NowMs, ("k", $"v{i}")));
        }
        string stray = LogFileNames.LogFile(_dir.Partition(), 0) + LogFileNames.CleanedSuffix;
        File.WriteAllBytes(stray, [1, 2, 3]);
        using var reopened = Open();
        Assert.False(File.Exists(stray));
        Assert.Equal(10, Batches.ReadAll(reopened).Count);
    }
}
