using Microsoft.Extensions.Time.Testing;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Tests.Storage;

public class PurgerTests
{
    private static void Touch(TempDirectory dir, params string[] names)
    {
        foreach (var name in names) File.WriteAllBytes(dir.File(name), [1]);
    }

    [Fact]
    public void Keeps_newest_snapshots_and_the_logs_needed_to_replay_from_the_oldest_kept()
    {
        using var dir = new TempDirectory();
        Touch(dir, "snapshot.10", "snapshot.20", "snapshot.30", "snapshot.40", "snapshot.50");
        Touch(dir, "log.1", "log.15", "log.25", "log.35", "log.45", "unrelated.txt", "snapshot.60.tmp");

        var deleted = Purger.Purge(dir.Path, dir.Path, 3, new ListLogger());

        // The oldest kept snapshot is 0x30; replay from it starts in log.25 (first zxid 0x25 <= 0x30).
        Assert.Equal(["log.25", "log.35", "log.45", "snapshot.30", "snapshot.40", "snapshot.50", "snapshot.60.tmp", "unrelated.txt"], dir.FileNames());
        Assert.Equal(4, deleted.Count);
    }

    [Fact]
    public void Log_starting_exactly_at_the_snapshot_is_the_first_one_kept()
    {
        using var snaps = new TempDirectory();
        using var logs = new TempDirectory();
        Touch(snaps, "snapshot.30", "snapshot.40", "snapshot.50");
        Touch(logs, "log.20", "log.30", "log.31", "log.41");

        Purger.Purge(snaps.Path, logs.Path, 3, new ListLogger());

        Assert.Equal(["log.30", "log.31", "log.41"], logs.FileNames());
        Assert.Equal(["snapshot.30", "snapshot.40", "snapshot.50"], snaps.FileNames());
    }

    [Fact]
    public void Retain_count_below_three_is_raised_to_three()
    {
        using var dir = new TempDirectory();
        Touch(dir, "snapshot.1", "snapshot.2", "snapshot.3", "snapshot.4");
        Purger.Purge(dir.Path, dir.Path, 1, new ListLogger());
        Assert.Equal(["snapshot.2", "snapshot.3", "snapshot.4"], dir.FileNames());
    }

    [Fact]
    public void Without_snapshots_nothing_is_deleted()
    {
        using var dir = new TempDirectory();
        Touch(dir, "log.1", "log.9");
        Assert.Empty(Purger.Purge(dir.Path, dir.Path, 3, new ListLogger()));
        Assert.Equal(["log.1", "log.9"], dir.FileNames());
    }

    [Fact]
    public void After_purging_every_kept_snapshot_still_recovers_to_the_last_txn()
    {
        using var snapDir = new TempDirectory();
        using var logDir = new TempDirectory();
        var store = new SnapshotStore(snapDir.Path, new ListLogger());
        using (var log = Txns.Open(logDir.Path))
        {
            log.Recover(0, _ => { });
            for (long round = 0; round < 6; round++)
            {
                Txns.AppendRange(log, round * 10 + 1, round * 10 + 7);
                // The snapshot is taken at zxid round*10+5 while txns up to +7 are already logged (fuzzy),
                // and the log rolls at the snapshot like ZooKeeper's sync stage does.
                log.RollLog();
                store.Write(round * 10 + 5, s => s.WriteByte(1));
                Txns.AppendRange(log, round * 10 + 8, round * 10 + 10);
            }
        }

        Purger.Purge(snapDir.Path, logDir.Path, 3, new ListLogger());
        Assert.Equal(["snapshot.23", "snapshot.2d", "snapshot.37"], snapDir.FileNames());

        foreach (var name in snapDir.FileNames())
        {
            StorageFiles.TryParseZxid(name, StorageFiles.SnapshotPrefix, out long snapshotZxid);
            var replayed = Txns.Recover(logDir.Path, afterZxid: snapshotZxid);
            Assert.Equal(Enumerable.Range((int)snapshotZxid + 1, 60 - (int)snapshotZxid).Select(z => (long)z), replayed.Select(e => e.Zxid));
        }
        Assert.DoesNotContain("log.1", logDir.FileNames());
    }

    [Fact]
    public void PurgeTask_runs_at_start_and_then_every_interval()
    {
        using var dir = new TempDirectory();
        var clock = new FakeTimeProvider();
        using var task = new PurgeTask(dir.Path, dir.Path, 3, TimeSpan.FromHours(2), clock, new ListLogger());
        Touch(dir, "snapshot.1", "snapshot.2", "snapshot.3", "snapshot.4");

        task.Start();
        Assert.Equal(1, task.CompletedRuns);
        Assert.Equal(["snapshot.2", "snapshot.3", "snapshot.4"], dir.FileNames());

        Touch(dir, "snapshot.5");
        clock.Advance(TimeSpan.FromMinutes(119));
        Assert.Equal(1, task.CompletedRuns);
        Assert.Contains("snapshot.2", dir.FileNames());

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, task.CompletedRuns);
        Assert.Equal(["snapshot.3", "snapshot.4", "snapshot.5"], dir.FileNames());

        task.Dispose();
        Touch(dir, "snapshot.6");
        clock.Advance(TimeSpan.FromHours(10));
        Assert.Equal(2, task.CompletedRuns);
    }

    [Fact]
    public void PurgeTask_with_zero_interval_never_runs()
    {
        using var dir = new TempDirectory();
        var clock = new FakeTimeProvider();
        using var task = new PurgeTask(dir.Path, dir.Path, 3, TimeSpan.Zero, clock, new ListLogger());
        Touch(dir, "snapshot.1", "snapshot.2", "snapshot.3", "snapshot.4");

        task.Start();
        clock.Advance(TimeSpan.FromDays(30));

        Assert.False(task.Enabled);
        Assert.Equal(0, task.CompletedRuns);
        Assert.Equal(4, dir.FileNames().Length);
    }
}
