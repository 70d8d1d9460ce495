using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

public sealed class RetentionTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();

    public void Dispose() => _dir.Dispose();

    private PartitionLog Open(LogConfig config) => PartitionLog.Open(_dir.Partition(), "t", 0, config, _clock);

    private void AppendNow(PartitionLog log, int count)
    {
        for (int i = 0; i < count; i++) log.Append(Batches.Make(CompressionType.None, _clock.NowMs, $"v{i}"));
    }

    [Fact]
    public void Retention_ms_deletes_segments_whose_newest_record_is_too_old()
    {
        using var log = Open(new LogConfig { SegmentBytes = 500, RetentionMs = 60_000 });
        AppendNow(log, 20);
        int oldSegments = log.Segments.Count - 1;
        long firstNewOffset = log.LogEndOffset;
        _clock.Advance(40_000);
        log.Roll();
        AppendNow(log, 20);
        Assert.Equal(0, log.DeleteOldSegments());

        _clock.Advance(30_000); // the first records are now 70 s old, the newer ones 30 s

        Assert.Equal(oldSegments + 1, log.DeleteOldSegments());
        Assert.Equal(firstNewOffset, log.LogStartOffset);
        Assert.Equal(firstNewOffset, log.Segments[0].BaseOffset);
        Assert.Equal(KafkaError.OffsetOutOfRange, Assert.Throws<LogException>(() => log.Read(0, 100)).Error);
        Assert.Equal(20, Batches.ReadAll(log).Count);
        Assert.False(File.Exists(LogFileNames.LogFile(_dir.Partition(), 0)));
    }

    [Fact]
    public void retention_keeps_segments_that_reach_past_the_high_watermark_until_it_moves()
    {
        using var log = Open(new LogConfig { SegmentBytes = 500, RetentionMs = 1000 });
        log.UseReplicatedHighWatermark(0); // a replicated partition: no follower has anything yet
        AppendNow(log, 20);
        int oldSegments = log.Segments.Count - 1;
        Assert.True(oldSegments >= 2);
        _clock.Advance(5000);
        Assert.Equal(0, log.DeleteOldSegments());

        log.UpdateHighWatermark(log.Segments[1].BaseOffset); // the first segment is on every in-sync replica
        Assert.Equal(1, log.DeleteOldSegments());
        Assert.Equal(log.Segments[0].BaseOffset, log.LogStartOffset);

        log.UpdateHighWatermark(log.LogEndOffset);
        Assert.Equal(oldSegments, log.DeleteOldSegments()); // the rest, the active one rolled
        Assert.Equal(log.LogEndOffset, log.LogStartOffset);
    }

    [Fact]
    public void When_everything_expired_the_active_segment_is_rolled_not_deleted()
    {
        using var log = Open(new LogConfig { RetentionMs = 1000 });
        AppendNow(log, 5);
        _clock.Advance(5000);
        Assert.Equal(1, log.DeleteOldSegments());
        Assert.Single(log.Segments);
        Assert.Equal(5, log.ActiveSegment.BaseOffset);
        Assert.Equal(0, log.ActiveSegment.Size);
        Assert.Equal(5, log.LogStartOffset);
        Assert.Equal(0, log.DeleteOldSegments()); // an empty active segment stays
        Assert.Equal(5, log.Append(Batches.Values("next")).FirstOffset);
    }

    [Fact]
    public void Retention_bytes_deletes_the_oldest_segments_beyond_the_limit()
    {
        using var log = Open(new LogConfig { SegmentBytes = 1000, RetentionBytes = 2500, RetentionMs = -1 });
        for (int i = 0; i < 30; i++) log.Append(Batches.Sized(200));
        long before = log.Size;
        Assert.True(before > 2500);

        int deleted = log.DeleteOldSegments();

        Assert.True(deleted > 0);
        // Kafka's rule: delete the oldest segment only while what is left stays at or above retention.bytes.
        Assert.True(log.Size >= 2500, $"{log.Size} bytes left");
        Assert.True(log.Size - log.Segments[0].Size < 2500, $"{log.Size} bytes left: one more segment should have gone");
        Assert.Equal(log.Segments[0].BaseOffset, log.LogStartOffset);
        Assert.Equal(30, log.LogEndOffset);
    }

    [Fact]
    public void Compact_only_topics_are_not_deleted_by_time()
    {
        using var log = Open(new LogConfig { SegmentBytes = 300, RetentionMs = 1000, CleanupPolicy = CleanupPolicy.Compact });
        for (int i = 0; i < 10; i++) log.Append(Batches.Keyed(_clock.NowMs, ($"k{i}", "v")));
        _clock.Advance(10_000);
        Assert.Equal(0, log.DeleteOldSegments());
        Assert.Equal(0, log.LogStartOffset);
    }

    [Fact]
    public void Delete_records_moves_the_log_start_and_deletes_whole_segments_below_it()
    {
        using var log = Open(new LogConfig { SegmentBytes = 400 });
        for (int i = 0; i < 40; i++) log.Append(Batches.Values($"v{i}"));
        int segmentsBefore = log.Segments.Count;

        Assert.Equal(25, log.DeleteRecordsBefore(25));

        Assert.Equal(25, log.LogStartOffset);
        Assert.True(log.Segments.Count < segmentsBefore);
        Assert.True(log.Segments[0].BaseOffset <= 25);
        Assert.True(log.Segments.Count == 1 || log.Segments[1].BaseOffset > 25);
        Assert.Equal(KafkaError.OffsetOutOfRange, Assert.Throws<LogException>(() => log.Read(24, 100)).Error);
        Assert.Equal(Enumerable.Range(25, 15).Select(i => $"v{i}"), Batches.ReadAll(log).Select(r => Batches.Text(r.Value)));
        Assert.Equal(new TimestampAndOffset(-1, 25), log.FetchOffsetByTimestamp(PartitionLog.EarliestTimestamp));
        Assert.Equal(25, log.DeleteRecordsBefore(10)); // never backwards
        Assert.Equal(KafkaError.OffsetOutOfRange, Assert.Throws<LogException>(() => log.DeleteRecordsBefore(41)).Error);

        Assert.Equal(40, log.DeleteRecordsBefore(40)); // everything
        Assert.Single(log.Segments);
        Assert.Equal(40, log.ActiveSegment.BaseOffset);
        Assert.Equal(40, log.Append(Batches.Values("x")).FirstOffset);
    }

    [Fact]
    public void Log_start_offset_survives_a_restart_through_the_checkpoint_file()
    {
        using (var manager = new LogManager(_dir.Path, new LogConfig { SegmentBytes = 400 }, _clock))
        {
            var log = manager.GetOrCreate("orders", 3);
            for (int i = 0; i < 20; i++) log.Append(Batches.Values($"v{i}"));
            log.DeleteRecordsBefore(7);
        }
        var lines = File.ReadAllLines(Path.Combine(_dir.Path, "log-start-offset-checkpoint"));
        Assert.Equal(["0", "1", "orders 3 7"], lines);
        Assert.Equal(["0", "1", "orders 3 20"], File.ReadAllLines(Path.Combine(_dir.Path, "recovery-point-offset-checkpoint")));
        using (var manager = new LogManager(_dir.Path, new LogConfig { SegmentBytes = 400 }, _clock))
        {
            var log = manager.Get("orders", 3)!;
            Assert.Equal(7, log.LogStartOffset);
            Assert.Equal(20, log.LogEndOffset);
            Assert.Equal(KafkaError.OffsetOutOfRange, Assert.Throws<LogException>(() => log.Read(6, 100)).Error);
        }
    }

    [Fact]
    public void Deleted_segments_stay_readable_for_a_fetch_already_holding_them()
    {
        using var log = Open(new LogConfig { SegmentBytes = 300, RetentionMs = 1000, FileDeleteDelayMs = 60_000 });
        AppendNow(log, 10);
        var inFlight = log.Read(0, 1 << 20).Records;
        _clock.Advance(5000);
        log.DeleteOldSegments();
        Assert.Equal("v0", Batches.Text(Batches.Records(inFlight.ToArray())[0].Value));
        Assert.True(log.CloseRetiredSegments() > 0); // still open for readers
        Assert.Equal("v0", Batches.Text(Batches.Records(inFlight.ToArray())[0].Value));
        _clock.Advance(60_000);
        Assert.Equal(0, log.CloseRetiredSegments());
    }
}
