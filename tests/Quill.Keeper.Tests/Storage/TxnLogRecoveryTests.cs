using Microsoft.Extensions.Logging;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Tests.Storage;

public class TxnLogRecoveryTests
{
    /// <summary>log.1 with txns 1..10 and log.b with 11..20.</summary>
    private static void WriteTwoFiles(string dir)
    {
        using var log = Txns.Open(dir);
        log.Recover(0, _ => { });
        Txns.AppendRange(log, 1, 10);
        log.RollLog();
        Txns.AppendRange(log, 11, 20);
    }

    private static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x40));
    }

    private static void SetLength(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    /// <summary>After a repair, new txns must follow the good prefix and everything must read back cleanly.</summary>
    private static void AssertAppendsAfterRepair(string dir, long lastGood)
    {
        var logger = new ListLogger();
        using (var log = Txns.Open(dir, logger))
        {
            log.Recover(0, _ => { });
            Assert.Equal(lastGood, log.LastZxid);
            Txns.AppendRange(log, lastGood + 1, lastGood + 5);
        }
        var secondLogger = new ListLogger();
        var replayed = Txns.Recover(dir, secondLogger);
        Assert.Equal(Enumerable.Range(1, (int)lastGood + 5).Select(z => (long)z), replayed.Select(e => e.Zxid));
        foreach (var entry in replayed) Txns.AssertSame(Txns.Make(entry.Zxid), entry);
        Assert.Empty(secondLogger.At(LogLevel.Warning));
    }

    [Fact]
    public void Torn_last_entry_is_cut_off_and_reported()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var path = dir.File("log.b");
        long lastFrame = Txns.FrameOffsets(path)[^1];
        SetLength(path, new FileInfo(path).Length - 5);

        var logger = new ListLogger();
        var replayed = Txns.Recover(dir.Path, logger);

        Assert.Equal(Enumerable.Range(1, 19).Select(z => (long)z), replayed.Select(e => e.Zxid));
        Assert.Equal(lastFrame, new FileInfo(path).Length);
        var warning = Assert.Single(logger.At(LogLevel.Warning));
        Assert.Contains("log.b", warning);
        Assert.Contains($"offset {lastFrame}", warning);
        Assert.Contains("bytes left", warning);
        AssertAppendsAfterRepair(dir.Path, 19);
    }

    [Fact]
    public void Entry_torn_inside_its_frame_header_is_cut_off()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var path = dir.File("log.b");
        long lastFrame = Txns.FrameOffsets(path)[^1];
        SetLength(path, lastFrame + 3);

        var replayed = Txns.Recover(dir.Path);
        Assert.Equal(19, replayed[^1].Zxid);
        Assert.Equal(lastFrame, new FileInfo(path).Length);
        AssertAppendsAfterRepair(dir.Path, 19);
    }

    [Fact]
    public void Corrupt_last_entry_is_cut_off_and_reported()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var path = dir.File("log.b");
        long lastFrame = Txns.FrameOffsets(path)[^1];
        FlipByte(path, lastFrame + 8 + 20);

        var logger = new ListLogger();
        var replayed = Txns.Recover(dir.Path, logger);

        Assert.Equal(19, replayed.Count);
        Assert.Equal(lastFrame, new FileInfo(path).Length);
        var warning = Assert.Single(logger.At(LogLevel.Warning));
        Assert.Contains("checksum mismatch", warning);
        Assert.Contains($"offset {lastFrame}", warning);
        AssertAppendsAfterRepair(dir.Path, 19);
    }

    [Fact]
    public void Garbage_length_in_last_entry_is_cut_off()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var path = dir.File("log.b");
        long lastFrame = Txns.FrameOffsets(path)[^1];
        FlipByte(path, lastFrame + 3); // the length's top byte: an impossible length

        var logger = new ListLogger();
        Assert.Equal(19, Txns.Recover(dir.Path, logger).Count);
        Assert.Contains("impossible frame length", Assert.Single(logger.At(LogLevel.Warning)));
        AssertAppendsAfterRepair(dir.Path, 19);
    }

    [Fact]
    public void Zero_filled_tail_from_a_crash_with_preallocation_is_trimmed_quietly()
    {
        using var dir = new TempDirectory();
        // A writer that never closes: what a kill -9 leaves behind, preallocated zeros included.
        var crashed = Txns.Open(dir.Path, options: new TxnLogOptions { PreallocSize = 1 << 20 });
        crashed.Recover(0, _ => { });
        Txns.AppendRange(crashed, 1, 12);
        var path = crashed.CurrentFile!;
        Assert.Equal(1 << 20, new FileInfo(path).Length);
        Assert.Equal(12, Txns.FrameOffsets(path).Count);

        var logger = new ListLogger();
        var replayed = Txns.Recover(dir.Path, logger);
        Assert.Equal(12, replayed.Count);
        Assert.True(new FileInfo(path).Length < 1 << 20);
        Assert.Empty(logger.At(LogLevel.Warning));
        Assert.Contains(logger.At(LogLevel.Information), m => m.Contains("preallocated"));
        crashed.Dispose();
        AssertAppendsAfterRepair(dir.Path, 12);
    }

    [Fact]
    public void Newest_file_without_a_complete_header_is_deleted()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        File.WriteAllBytes(dir.File("log.15"), [0x51, 0x4b, 0x54]); // 3 bytes of a header, then the crash

        var logger = new ListLogger();
        Assert.Equal(20, Txns.Recover(dir.Path, logger).Count);
        Assert.Equal(["log.1", "log.b"], dir.FileNames());
        Assert.Contains("log.15", Assert.Single(logger.At(LogLevel.Warning)));
        AssertAppendsAfterRepair(dir.Path, 20);
    }

    [Fact]
    public void Newest_file_with_only_a_header_is_deleted_so_the_next_file_can_take_its_name()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        File.WriteAllBytes(dir.File("log.15"), [.. "QKTL"u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

        Assert.Equal(20, Txns.Recover(dir.Path).Count);
        Assert.Equal(["log.1", "log.b"], dir.FileNames());
        AssertAppendsAfterRepair(dir.Path, 20);
    }

    [Fact]
    public void Newest_file_whose_only_entry_is_torn_is_deleted()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        using (var log = Txns.Open(dir.Path))
        {
            log.Recover(0, _ => { });
            log.Append(Txns.Make(21));
            log.Commit();
        }
        SetLength(dir.File("log.15"), 30);

        Assert.Equal(20, Txns.Recover(dir.Path).Count);
        Assert.Equal(["log.1", "log.b"], dir.FileNames());
        AssertAppendsAfterRepair(dir.Path, 20);
    }

    [Fact]
    public void Corruption_in_an_older_file_throws_instead_of_skipping()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var older = dir.File("log.1");
        FlipByte(older, Txns.FrameOffsets(older)[4] + 8 + 10);
        long before = new FileInfo(older).Length;

        using var log = Txns.Open(dir.Path);
        var replayed = new List<long>();
        var error = Assert.Throws<InvalidDataException>(() => log.Recover(0, e => replayed.Add(e.Zxid)));
        Assert.Contains("log.1", error.Message);
        Assert.Contains("not the newest", error.Message);
        Assert.Equal(before, new FileInfo(older).Length); // nothing repaired behind the operator's back
        Assert.Throws<InvalidDataException>(() => log.ReadFrom(0).ToList());
    }

    [Fact]
    public void Torn_older_file_throws()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var older = dir.File("log.1");
        SetLength(older, new FileInfo(older).Length - 1);

        var error = Assert.Throws<InvalidDataException>(() => Txns.Recover(dir.Path));
        Assert.Contains("log.1", error.Message);
    }

    [Fact]
    public void Damaged_entry_followed_by_good_entries_in_newest_file_throws()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var newest = dir.File("log.b");
        FlipByte(newest, Txns.FrameOffsets(newest)[3] + 8 + 5);

        var error = Assert.Throws<InvalidDataException>(() => Txns.Recover(dir.Path));
        Assert.Contains("good txns follow", error.Message);
    }

    [Fact]
    public void Recovery_skips_older_files_before_the_snapshot()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        // Garbage in log.1 does not matter when the snapshot is past it: replay starts in log.b.
        FlipByte(dir.File("log.1"), 40);
        var replayed = Txns.Recover(dir.Path, afterZxid: 12);
        Assert.Equal(Enumerable.Range(13, 8).Select(z => (long)z), replayed.Select(e => e.Zxid));
    }

    [Fact]
    public void ReadFrom_stops_at_a_torn_tail_without_repairing_it()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        var path = dir.File("log.b");
        SetLength(path, new FileInfo(path).Length - 2);
        long length = new FileInfo(path).Length;

        using var log = Txns.Open(dir.Path);
        Assert.Equal(19, log.ReadFrom(0).Count());
        Assert.Equal(length, new FileInfo(path).Length);
    }

    [Fact]
    public void Apache_ZooKeeper_log_gets_a_clear_error()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("log.1"), [.. "ZKLG"u8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        var error = Assert.Throws<InvalidDataException>(() => Txns.Recover(dir.Path));
        Assert.Contains("Apache ZooKeeper", error.Message);
    }

    [Fact]
    public void Replay_that_skips_zxids_after_the_snapshot_warns()
    {
        using var dir = new TempDirectory();
        WriteTwoFiles(dir.Path);
        File.Delete(dir.File("log.1"));
        var logger = new ListLogger();
        Assert.Equal(10, Txns.Recover(dir.Path, logger, afterZxid: 5).Count);
        Assert.Contains("may be missing", Assert.Single(logger.At(LogLevel.Warning)));
    }
}
