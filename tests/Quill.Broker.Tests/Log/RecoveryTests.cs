using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

public sealed class RecoveryTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();
    private static readonly LogConfig Config = new() { SegmentBytes = 2000, IndexIntervalBytes = 150 };

    public void Dispose() => _dir.Dispose();

    /// <summary>Writes 100 single-record batches "v0".."v99" and leaves the log as a crash would (no flush, no close).</summary>
    private List<long> WriteAndCrash()
    {
        var log = PartitionLog.Open(_dir.Partition(), "t", 0, Config, _clock);
        for (int i = 0; i < 100; i++) log.Append(Batches.Make(CompressionType.None, 10_000 + i, $"v{i}"));
        var bases = log.Segments.Select(s => s.BaseOffset).ToList();
        log.CloseAbruptly();
        return bases;
    }

    private PartitionLog Reopen() => PartitionLog.Open(_dir.Partition(), "t", 0, Config, _clock);

    private static void AssertServes(PartitionLog log, int count)
    {
        Assert.Equal(count, log.LogEndOffset);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"v{i}"), Batches.ReadAll(log).Select(r => Batches.Text(r.Value)));
        foreach (var s in log.Segments)
        {
            Assert.True(s.OffsetIndex.IsSane(s.Size));
            Assert.True(s.TimeIndex.IsSane(s.NextOffset));
        }
        Assert.Equal(new TimestampAndOffset(10_000 + count - 1, count - 1), log.FetchOffsetByTimestamp(10_000 + count - 1));
        Assert.Equal(count, log.Append(Batches.Values("next")).FirstOffset);
    }

    [Fact]
    public void A_batch_torn_in_the_middle_is_cut_off()
    {
        var bases = WriteAndCrash();
        string active = LogFileNames.LogFile(_dir.Partition(), bases[^1]);
        long length = new FileInfo(active).Length;
        using (var f = new FileStream(active, FileMode.Open)) f.SetLength(length - 20);

        using var log = Reopen();
        AssertServes(log, 99);
    }

    [Fact]
    public void A_flipped_byte_in_the_last_batch_fails_its_crc_and_is_cut_off()
    {
        var bases = WriteAndCrash();
        string active = LogFileNames.LogFile(_dir.Partition(), bases[^1]);
        byte[] bytes = File.ReadAllBytes(active);
        bytes[^3] ^= 0xFF;
        File.WriteAllBytes(active, bytes);

        using var log = Reopen();
        AssertServes(log, 99);
    }

    [Fact]
    public void Corruption_in_an_older_unflushed_segment_drops_everything_after_it()
    {
        var bases = WriteAndCrash();
        Assert.True(bases.Count >= 3);
        string second = LogFileNames.LogFile(_dir.Partition(), bases[1]);
        byte[] bytes = File.ReadAllBytes(second);
        bytes[^3] ^= 0xFF; // the last batch of the second segment
        File.WriteAllBytes(second, bytes);

        using var log = Reopen();
        Assert.Equal(2, log.Segments.Count);
        AssertServes(log, (int)bases[2] - 1);
    }

    [Fact]
    public void Deleted_index_files_are_rebuilt_even_below_the_recovery_point()
    {
        using (var log = PartitionLog.Open(_dir.Partition(), "t", 0, Config, _clock))
            for (int i = 0; i < 100; i++) log.Append(Batches.Make(CompressionType.None, 10_000 + i, $"v{i}"));
        var indexes = Directory.GetFiles(_dir.Partition(), "*.index").Concat(Directory.GetFiles(_dir.Partition(), "*.timeindex")).ToList();
        var sizes = indexes.ToDictionary(p => p, p => new FileInfo(p).Length);
        Assert.Contains(sizes.Values, v => v > 0);
        foreach (var p in indexes) File.Delete(p);

        using (var reopened = PartitionLog.Open(_dir.Partition(), "t", 0, Config, _clock, recoveryPoint: 100, hadCleanShutdown: true))
        {
            AssertServes(reopened, 100);
        }
        foreach (var (path, size) in sizes)
            if (!path.EndsWith(".timeindex") || size > 0) Assert.True(File.Exists(path), path);
    }

    [Fact]
    public void A_garbage_index_is_detected_and_rebuilt()
    {
        using (var log = PartitionLog.Open(_dir.Partition(), "t", 0, Config, _clock))
            for (int i = 0; i < 100; i++) log.Append(Batches.Make(CompressionType.None, 10_000 + i, $"v{i}"));
        string index = LogFileNames.IndexFile(_dir.Partition(), 0);
        File.WriteAllBytes(index, [0, 0, 0, 5, 0x7F, 0, 0, 0, 0, 0, 0]); // position far past the file, and a torn entry
        using var reopened = PartitionLog.Open(_dir.Partition(), "t", 0, Config, _clock, recoveryPoint: 100, hadCleanShutdown: true);
        AssertServes(reopened, 100);
    }

    [Fact]
    public void Garbage_after_the_last_batch_is_removed()
    {
        var bases = WriteAndCrash();
        string active = LogFileNames.LogFile(_dir.Partition(), bases[^1]);
        using (var f = new FileStream(active, FileMode.Append)) f.Write(new byte[100]); // zeros, as a preallocated tail looks
        using var log = Reopen();
        AssertServes(log, 100);
    }
}
