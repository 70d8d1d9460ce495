using Quill.Keeper.Storage;

namespace Quill.Keeper.Tests.Storage;

public class TxnLogTests
{
    [Fact]
    public void Committed_txns_survive_reopen_across_rolled_files()
    {
        using var dir = new TempDirectory();
        using (var log = Txns.Open(dir.Path))
        {
            Assert.Equal(0, log.Recover(0, _ => Assert.Fail("empty log replayed something")));
            Txns.AppendRange(log, 1, 20);
            log.RollLog();
            Txns.AppendRange(log, 21, 30, batch: 3);
            log.RollLog();
            Txns.AppendRange(log, 31, 35, batch: 10);
            Assert.Equal(35, log.LastCommittedZxid);
        }

        // Named by the hex zxid of each file's first txn, as ZooKeeper does.
        Assert.Equal(["log.1", "log.15", "log.1f"], dir.FileNames());

        var replayed = Txns.Recover(dir.Path);
        Assert.Equal(35, replayed.Count);
        for (int i = 0; i < 35; i++) Txns.AssertSame(Txns.Make(i + 1), replayed[i]);

        using var reopened = Txns.Open(dir.Path);
        Assert.Equal(Enumerable.Range(11, 25).Select(z => (long)z), reopened.ReadFrom(10).Select(e => e.Zxid));
        var afterSnapshot = new List<long>();
        reopened.Recover(25, e => afterSnapshot.Add(e.Zxid));
        Assert.Equal(Enumerable.Range(26, 10).Select(z => (long)z), afterSnapshot);
        Assert.Equal(35, reopened.LastZxid);

        // After recovery, appends go to a new file and never rewrite recovered ones.
        reopened.Append(Txns.Make(36));
        reopened.Commit();
        Assert.Equal(["log.1", "log.15", "log.1f", "log.24"], dir.FileNames());
    }

    [Fact]
    public void Commit_fsyncs_once_per_batch_and_only_when_something_is_pending()
    {
        using var dir = new TempDirectory();
        using var log = Txns.Open(dir.Path);
        log.Recover(0, _ => { });

        log.Commit();
        Assert.Equal(0, log.FsyncCount);

        for (int z = 1; z <= 50; z++) log.Append(Txns.Make(z));
        Assert.Equal(0, log.LastCommittedZxid);
        Assert.Equal(50, log.LastZxid);
        log.Commit();
        Assert.Equal(1, log.FsyncCount);
        Assert.Equal(50, log.LastCommittedZxid);
        Assert.True(log.TotalFsyncMillis >= log.LastFsyncMillis);

        log.Append(Txns.Make(51));
        log.Commit();
        log.Commit();
        Assert.Equal(2, log.FsyncCount);
    }

    [Fact]
    public void ForceSync_off_writes_without_fsync_and_data_is_still_readable()
    {
        using var dir = new TempDirectory();
        using (var log = Txns.Open(dir.Path, options: new TxnLogOptions { ForceSync = false }))
        {
            log.Recover(0, _ => { });
            Txns.AppendRange(log, 1, 10);
            Assert.Equal(0, log.FsyncCount);
        }
        Assert.Equal(10, Txns.Recover(dir.Path).Count);
    }

    [Fact]
    public void Uncommitted_txns_are_not_written()
    {
        using var dir = new TempDirectory();
        using (var log = Txns.Open(dir.Path))
        {
            log.Recover(0, _ => { });
            Txns.AppendRange(log, 1, 5);
            log.Append(Txns.Make(6));
        }
        Assert.Equal([1L, 2, 3, 4, 5], Txns.Recover(dir.Path).Select(e => e.Zxid));
    }

    [Fact]
    public void Append_requires_recovery_and_increasing_zxids()
    {
        using var dir = new TempDirectory();
        using var log = Txns.Open(dir.Path);
        Assert.Throws<InvalidOperationException>(() => log.Append(Txns.Make(1)));
        log.Recover(7, _ => { });
        Assert.Equal(7, log.LastZxid);
        Assert.Throws<ArgumentException>(() => log.Append(Txns.Make(7)));
        log.Append(Txns.Make(8));
        Assert.Throws<ArgumentException>(() => log.Append(Txns.Make(8)));
        Assert.Throws<InvalidOperationException>(() => log.Recover(0, _ => { }));
    }

    [Fact]
    public void Preallocated_file_grows_in_chunks_and_is_trimmed_on_close()
    {
        using var dir = new TempDirectory();
        var options = new TxnLogOptions { PreallocSize = 4096 };
        using (var log = Txns.Open(dir.Path, options: options))
        {
            log.Recover(0, _ => { });
            Txns.AppendRange(log, 1, 3);
            Assert.Equal(4096, new FileInfo(log.CurrentFile!).Length);
            Txns.AppendRange(log, 4, 40);
            Assert.Equal(0, new FileInfo(log.CurrentFile!).Length % 4096);
        }
        var offsets = Txns.FrameOffsets(dir.File("log.1"));
        Assert.Equal(40, offsets.Count);
        Assert.Equal(40, Txns.Recover(dir.Path).Count);
    }

    [Fact]
    public void Large_batches_round_trip()
    {
        using var dir = new TempDirectory();
        var big = new TxnEntry(1, 1, 1, 1, 1, new byte[5_000_000]);
        Random.Shared.NextBytes(big.Body);
        using (var log = Txns.Open(dir.Path))
        {
            log.Recover(0, _ => { });
            log.Append(big);
            for (int z = 2; z <= 2000; z++) log.Append(Txns.Make(z));
            log.Commit();
        }
        var replayed = Txns.Recover(dir.Path);
        Assert.Equal(2000, replayed.Count);
        Txns.AssertSame(big, replayed[0]);
        Txns.AssertSame(Txns.Make(2000), replayed[^1]);
    }
}
