using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Log;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Tests.Log;

public sealed class LogManagerTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly FakeTimeProvider _clock = FakeClocks.New();
    private static readonly LogConfig Config = new() { SegmentBytes = 600 };

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reopens_every_partition_directory_of_the_log_dir()
    {
        using (var manager = new LogManager(_dir.Path, Config, _clock))
        {
            manager.GetOrCreate("a-topic-with-dashes", 0).Append(Batches.Values("x", "y"));
            manager.GetOrCreate("a-topic-with-dashes", 12).Append(Batches.Values("z"));
            manager.GetOrCreate("other", 1);
            Assert.Throws<IOException>(() => new LogManager(_dir.Path, Config, _clock)); // the dir is locked
        }
        Assert.True(Directory.Exists(Path.Combine(_dir.Path, "a-topic-with-dashes-12")));
        Assert.True(File.Exists(Path.Combine(_dir.Path, ".kafka_cleanshutdown")));
        using var reopened = new LogManager(_dir.Path, Config, _clock);
        Assert.Equal(3, reopened.Logs.Count);
        Assert.Equal(2, reopened.Get("a-topic-with-dashes", 0)!.LogEndOffset);
        Assert.Equal(1, reopened.Get("a-topic-with-dashes", 12)!.LogEndOffset);
        Assert.Equal(0, reopened.Get("other", 1)!.LogEndOffset);
        Assert.False(File.Exists(Path.Combine(_dir.Path, ".kafka_cleanshutdown")));
    }

    [Fact]
    public void A_stored_batch_that_does_not_decode_stops_compaction_of_its_log_only()
    {
        var compact = new LogConfig { SegmentBytes = 300, CleanupPolicy = CleanupPolicy.Compact, DeleteRetentionMs = 60_000 };
        var expiring = new LogConfig { SegmentBytes = 300, RetentionMs = 1000 };
        LogConfig TopicConfig(string topic) => topic == "c" ? compact : expiring;

        // A compacted log whose first batch (below the recovery point, so recovery trusts it) has a record that does
        // not decode, as a broker before produce-time record checks could have stored.
        string partitionDir = _dir.Partition("c", 0);
        var log = PartitionLog.Open(partitionDir, "c", 0, compact, _clock);
        for (int i = 0; i < 12; i++) log.Append(Batches.Keyed(_clock.NowMs, ($"k{i % 3}", $"v{i}")));
        log.Flush();
        long recoveryPoint = log.RecoveryPoint;
        log.CloseAbruptly();
        OffsetCheckpointFile.Write(Path.Combine(_dir.Path, LogFileNames.RecoveryPointCheckpoint), [("c", 0, recoveryPoint)]);
        string first = LogFileNames.LogFile(partitionDir, 0);
        byte[] bytes = File.ReadAllBytes(first);
        bytes[RecordBatch.HeaderSize] = 0x7F; // the first record's length varint: -64
        File.WriteAllBytes(first, bytes);

        using var manager = new LogManager(_dir.Path, Config, _clock, TopicConfig);
        var other = manager.GetOrCreate("d", 0);
        for (int i = 0; i < 12; i++) other.Append(Batches.Values($"old-{i}"));
        _clock.Advance(5000);
        other.Append(Batches.Values("new"));
        int segmentsBefore = other.Segments.Count;

        manager.CleanLogs(); // must not throw
        manager.RunMaintenance();
        Assert.True(manager.Get("c", 0)!.Uncleanable);
        Assert.True(other.Segments.Count < segmentsBefore, "retention of the other log must still run");
        Assert.Equal(12, manager.Get("c", 0)!.LogEndOffset);
        manager.CleanLogs(); // and the uncleanable log is left alone from then on
    }

    [Fact]
    public void Segments_below_the_checkpointed_recovery_point_are_not_rescanned()
    {
        string partitionDir = _dir.Partition("t", 0);
        var log = PartitionLog.Open(partitionDir, "t", 0, Config, _clock);
        for (int i = 0; i < 30; i++) log.Append(Batches.Values($"v{i}"));
        log.Flush();
        long recoveryPoint = log.RecoveryPoint;
        Assert.Equal(30, recoveryPoint);
        for (int i = 30; i < 40; i++) log.Append(Batches.Values($"v{i}"));
        log.CloseAbruptly();
        OffsetCheckpointFile.Write(Path.Combine(_dir.Path, LogFileNames.RecoveryPointCheckpoint), [("t", 0, recoveryPoint)]);

        // Damage a record in the first (flushed) segment: recovery trusts it and does not look.
        string first = LogFileNames.LogFile(partitionDir, 0);
        byte[] bytes = File.ReadAllBytes(first);
        bytes[^2] ^= 0x01;
        File.WriteAllBytes(first, bytes);

        using (var manager = new LogManager(_dir.Path, Config, _clock))
            Assert.Equal(40, manager.Get("t", 0)!.LogEndOffset);

        // Without the checkpoint everything is rescanned and the log is cut at the damage.
        File.Delete(Path.Combine(_dir.Path, LogFileNames.RecoveryPointCheckpoint));
        File.Delete(Path.Combine(_dir.Path, ".kafka_cleanshutdown"));
        using (var manager = new LogManager(_dir.Path, Config, _clock))
            Assert.True(manager.Get("t", 0)!.LogEndOffset < 30);
    }

    [Fact]
    public void Flush_ms_flushes_on_maintenance_once_due_and_default_never_fsyncs_per_append()
    {
        using var manager = new LogManager(_dir.Path, Config, _clock);
        var lazy = manager.GetOrCreate("lazy", 0);
        var timed = manager.GetOrCreate("timed", 0, Config with { FlushMs = 1000 });
        lazy.Append(Batches.Make(CompressionType.None, _clock.NowMs, "a"));
        timed.Append(Batches.Make(CompressionType.None, _clock.NowMs, "a"));
        Assert.Equal(0, lazy.RecoveryPoint);
        Assert.Equal(0, timed.RecoveryPoint);

        manager.RunMaintenance();
        Assert.Equal(0, timed.RecoveryPoint);
        _clock.Advance(1000);
        manager.RunMaintenance();

        Assert.Equal(1, timed.RecoveryPoint);
        Assert.Equal(0, lazy.RecoveryPoint);
        var checkpoint = OffsetCheckpointFile.Read(Path.Combine(_dir.Path, LogFileNames.RecoveryPointCheckpoint));
        Assert.Equal(1, checkpoint[("timed", 0)]);
    }

    [Fact]
    public void Flush_messages_fsyncs_every_n_records()
    {
        using var manager = new LogManager(_dir.Path, Config, _clock);
        var log = manager.GetOrCreate("t", 0, Config with { FlushMessages = 3 });
        log.Append(Batches.Values("a", "b"));
        Assert.Equal(0, log.RecoveryPoint);
        log.Append(Batches.Values("c"));
        Assert.Equal(3, log.RecoveryPoint);
        log.Append(Batches.Values("d"));
        Assert.Equal(3, log.RecoveryPoint);
        log.Flush();
        Assert.Equal(4, log.RecoveryPoint);
    }

    [Fact]
    public void maintenance_applies_retention_and_the_cleaner_pass_compaction_per_topic_policy()
    {
        var compactConfig = Config with { CleanupPolicy = CleanupPolicy.Compact, SegmentBytes = 300 };
        using var manager = new LogManager(_dir.Path, Config with { RetentionMs = 10_000 }, _clock);
        var deleting = manager.GetOrCreate("events", 0);
        var compacted = manager.GetOrCreate("state", 0, compactConfig);
        for (int i = 0; i < 20; i++)
        {
            deleting.Append(Batches.Make(CompressionType.None, _clock.NowMs, $"e{i}"));
            compacted.Append(Batches.Keyed(_clock.NowMs, ("key", $"s{i}")));
        }
        _clock.Advance(20_000);

        manager.RunMaintenance();
        Assert.Equal(20, deleting.LogStartOffset);
        Assert.Equal(20, Batches.ReadAll(compacted).Count); // compaction is the cleaner's, on its own schedule

        manager.CleanLogs();
        var state = Batches.ReadAll(compacted);
        Assert.Equal(state.Count, state.Select(r => r.Offset).Distinct().Count());
        Assert.True(state.Count < 20);
        Assert.Equal("s19", Batches.Text(state[^1].Value));
    }

    [Fact]
    public void Checkpoint_files_use_kafkas_text_format()
    {
        string path = Path.Combine(_dir.Path, "cp");
        OffsetCheckpointFile.Write(path, [("orders", 0, 42), ("my-topic", 11, 7)]);
        Assert.Equal("0\n2\norders 0 42\nmy-topic 11 7\n", File.ReadAllText(path));
        var read = OffsetCheckpointFile.Read(path);
        Assert.Equal(42, read[("orders", 0)]);
        Assert.Equal(7, read[("my-topic", 11)]);
        File.WriteAllText(path, "1\n0\n");
        Assert.Throws<InvalidDataException>(() => OffsetCheckpointFile.Read(path));
    }
}
