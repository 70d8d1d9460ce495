using Microsoft.Extensions.Time.Testing;
using System.Buffers.Binary;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

public sealed class AppendReadTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();

    public void Dispose() => _dir.Dispose();

    private PartitionLog Open(LogConfig? config = null) => PartitionLog.Open(_dir.Partition(), "t", 0, config ?? LogConfig.Default, _clock);

    [Fact]
    public void Append_assigns_offsets_by_rewriting_the_header_and_keeps_record_bytes_identical()
    {
        using var log = Open();
        log.Append(Batches.Values("a", "b", "c"));
        byte[] input = Batches.Values("d", "e");
        byte[] original = input.ToArray();

        var info = log.Append(input, leaderEpoch: 7);

        Assert.Equal(3, info.FirstOffset);
        Assert.Equal(4, info.LastOffset);
        Assert.Equal(-1, info.LogAppendTime);
        Assert.Equal(0, info.LogStartOffset);
        Assert.Equal(original, input); // the caller's buffer is not touched
        var stored = log.Read(3, 1 << 20).Records.ToArray();
        Assert.Equal(original.Length, stored.Length);
        Assert.Equal(3, BinaryPrimitives.ReadInt64BigEndian(stored));
        Assert.Equal(7, BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(12)));
        Assert.Equal(original.AsSpan(16).ToArray(), stored.AsSpan(16).ToArray()); // magic, CRC, attributes, records
        Assert.True(RecordBatch.Read(stored).IsCrcValid);
        Assert.Equal([3L, 4L], Batches.Records(stored).Select(r => r.Offset));
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Compressed_batches_are_stored_untouched(CompressionType codec)
    {
        using var log = Open();
        log.Append(Batches.Values("x"));
        byte[] input = Batches.Make(codec, 5000, "one", "two", "three");

        log.Append(input);

        var stored = log.Read(1, 1 << 20).Records.ToArray();
        Assert.Equal(input.Length, stored.Length);
        Assert.Equal(input.AsSpan(8, 4).ToArray(), stored.AsSpan(8, 4).ToArray()); // batch length
        Assert.Equal(input.AsSpan(16).ToArray(), stored.AsSpan(16).ToArray()); // CRC and compressed records as sent
        var batch = RecordBatch.Read(stored);
        Assert.Equal(codec, batch.Compression);
        Assert.Equal(["one", "two", "three"], batch.ReadRecords().Select(r => Batches.Text(r.Value)));
        Assert.Equal([1L, 2L, 3L], batch.ReadRecords().Select(r => r.Offset));
    }

    [Fact]
    public void Round_trip_across_segment_rolls()
    {
        using var log = Open(new LogConfig { SegmentBytes = 1024, IndexIntervalBytes = 128 });
        var expected = new List<string>();
        for (int i = 0; i < 200; i++)
        {
            var values = Enumerable.Range(0, 1 + i % 4).Select(j => $"r{i}-{j}").ToArray();
            expected.AddRange(values);
            var info = log.Append(Batches.Values(values));
            Assert.Equal(expected.Count - values.Length, info.FirstOffset);
        }
        Assert.True(log.Segments.Count > 10, $"only {log.Segments.Count} segments");
        Assert.All(log.Segments, s => Assert.True(s.Size <= 1024));
        Assert.Equal(expected, Batches.ReadAll(log).Select(r => Batches.Text(r.Value)));
        Assert.Equal(expected, Batches.ReadAll(log, maxBytes: 1).Select(r => Batches.Text(r.Value)));
        // Reading from any offset starts with the batch containing it.
        for (long offset = 0; offset < log.LogEndOffset; offset += 37)
        {
            var first = RecordBatch.ReadAll(log.Read(offset, 100).Records.ToArray())[0];
            Assert.InRange(offset, first.BaseOffset, first.LastOffset);
        }
        var files = Directory.GetFiles(_dir.Partition()).Select(Path.GetFileName).ToHashSet();
        foreach (var s in log.Segments)
        {
            Assert.Contains(LogFileNames.OffsetName(s.BaseOffset) + ".log", files);
            Assert.Contains(LogFileNames.OffsetName(s.BaseOffset) + ".index", files);
            Assert.Contains(LogFileNames.OffsetName(s.BaseOffset) + ".timeindex", files);
        }
    }

    [Fact]
    public void Read_returns_whole_batches_at_least_one_and_stops_at_the_high_watermark()
    {
        using var log = Open();
        log.Append(Batches.Sized(500));
        log.Append(Batches.Sized(500));
        log.Append(Batches.Sized(500));

        var one = log.Read(0, 10);
        Assert.Single(RecordBatch.ReadAll(one.Records.ToArray()));
        var two = log.Read(0, 1300);
        Assert.Equal(2, RecordBatch.ReadAll(two.Records.ToArray()).Count);
        Assert.Equal(two.Records.Length, RecordBatch.ReadAll(two.Records.ToArray()).Sum(b => b.SizeInBytes));

        var belowHw = log.Read(0, 1 << 20, maxOffset: 2);
        Assert.Equal([0L, 1L], RecordBatch.ReadAll(belowHw.Records.ToArray()).Select(b => b.BaseOffset));
        Assert.Equal(2, belowHw.HighWatermark);
        Assert.True(log.Read(2, 1 << 20, maxOffset: 2).Records.IsEmpty);
        Assert.True(log.Read(3, 1 << 20).Records.IsEmpty); // at the log end: nothing yet
        Assert.Equal(KafkaError.OffsetOutOfRange, Assert.Throws<LogException>(() => log.Read(4, 100)).Error);
        Assert.Equal(KafkaError.OffsetOutOfRange, Assert.Throws<LogException>(() => log.Read(-1, 100)).Error);
    }

    [Fact]
    public void Bad_crc_is_corrupt_message_and_nothing_of_the_append_is_written()
    {
        using var log = Open();
        log.Append(Batches.Values("a"));
        byte[] good = Batches.Values("b");
        byte[] bad = Batches.Values("c", "d");
        bad[^1] ^= 0x40;

        var e = Assert.Throws<LogException>(() => log.Append(good.Concat(bad).ToArray()));

        Assert.Equal(KafkaError.CorruptMessage, e.Error);
        Assert.Equal(1, log.LogEndOffset);
        Assert.Equal(log.Segments[0].Size, log.Read(0, 1 << 20).Records.Length);
        Assert.Equal(["a"], Batches.ReadAll(log).Select(r => Batches.Text(r.Value)));
        Assert.Equal(1, log.Append(good).FirstOffset);
    }

    [Fact]
    public void Invalid_batches_get_kafkas_errors()
    {
        using var log = Open(new LogConfig { MaxMessageBytes = 300 });
        Assert.Equal(KafkaError.MessageTooLarge, Assert.Throws<LogException>(() => log.Append(Batches.Sized(400))).Error);

        byte[] wrongDelta = Batches.Values("a", "b");
        BinaryPrimitives.WriteInt32BigEndian(wrongDelta.AsSpan(23), 5);
        BinaryPrimitives.WriteUInt32BigEndian(wrongDelta.AsSpan(17), Crc32C.Compute(wrongDelta.AsSpan(21)));
        Assert.Equal(KafkaError.InvalidRecord, Assert.Throws<LogException>(() => log.Append(wrongDelta)).Error);

        byte[] oldMagic = Batches.Values("a");
        oldMagic[16] = 1;
        Assert.Equal(KafkaError.CorruptMessage, Assert.Throws<LogException>(() => log.Append(oldMagic)).Error);

        byte[] truncated = Batches.Values("a")[..^3];
        Assert.Equal(KafkaError.CorruptMessage, Assert.Throws<LogException>(() => log.Append(truncated)).Error);
        Assert.Equal(0, log.LogEndOffset);
    }

    [Fact]
    public void Compacted_topics_reject_records_without_keys()
    {
        using var log = Open(new LogConfig { CleanupPolicy = CleanupPolicy.Compact });
        var builder = new RecordBatchBuilder();
        builder.Add(1000, null, new byte[] { 1 });
        Assert.Equal(KafkaError.InvalidRecord, Assert.Throws<LogException>(() => log.Append(builder.Build())).Error);
        Assert.Equal(0, log.Append(Batches.Keyed(1000, ("k", "v"))).FirstOffset);
    }

    [Fact]
    public void Log_append_time_topics_stamp_the_batch_and_keep_the_crc_valid()
    {
        using var log = Open(new LogConfig { LogAppendTime = true });
        var info = log.Append(Batches.Make(CompressionType.Lz4, 5, "a", "b"));
        Assert.Equal(_clock.NowMs, info.LogAppendTime);
        var batch = RecordBatch.Read(log.Read(0, 1 << 20).Records.ToArray());
        Assert.True(batch.IsCrcValid);
        Assert.Equal(TimestampType.LogAppendTime, batch.TimestampType);
        Assert.All(batch.ReadRecords(), r => Assert.Equal(_clock.NowMs, r.Timestamp));
    }

    [Fact]
    public void Segment_ms_rolls_a_segment_by_age()
    {
        using var log = Open(new LogConfig { SegmentMs = 60_000 });
        log.Append(Batches.Make(CompressionType.None, _clock.NowMs, "a"));
        _clock.Advance(30_000);
        log.Append(Batches.Make(CompressionType.None, _clock.NowMs, "b"));
        Assert.Single(log.Segments);
        _clock.Advance(31_000);
        log.Append(Batches.Make(CompressionType.None, _clock.NowMs, "c"));
        Assert.Equal([0L, 2L], log.Segments.Select(s => s.BaseOffset));
    }

    [Fact]
    public async Task Reads_concurrent_with_appends_see_only_whole_batches()
    {
        using var log = Open(new LogConfig { SegmentBytes = 4096, IndexIntervalBytes = 256 });
        using var cts = new CancellationTokenSource();
        int reads = 0;
        var reader = Task.Run(() =>
        {
            while (!cts.IsCancellationRequested)
            {
                long end = log.LogEndOffset;
                if (end == 0) continue;
                var bytes = log.Read(Math.Max(0, end - 5), 1 << 16).Records.ToArray();
                var batches = RecordBatch.ReadAll(bytes);
                Assert.Equal(bytes.Length, batches.Sum(b => b.SizeInBytes));
                Assert.All(batches, b => Assert.True(b.IsCrcValid));
                Interlocked.Increment(ref reads);
            }
        });
        int appended = 0;
        while (appended < 2000 || Volatile.Read(ref reads) < 200)
        {
            log.Append(Batches.Values($"v{appended++}"));
            Assert.False(reader.IsCompleted, "the reader failed");
        }
        cts.Cancel();
        await reader;
        Assert.Equal(appended, Batches.ReadAll(log).Count);
    }
}
