using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Keeper.Storage;
using Quill.Keeper.Storage.ZooKeeperImport;
using Quill.Testing;

namespace Quill.Keeper.Tests.Storage.ZooKeeperImport;

/// <summary>
/// `quill keeper import-zookeeper` on data written by a real Apache ZooKeeper 3.8 and killed with SIGKILL: Keeper then
/// serves kazoo the same znodes (data, every stat field, ACLs), and goes on with zxids above ZooKeeper's.
/// </summary>
public sealed class ZooKeeperImportTests(ZooKeeperDataFixture zooKeeper) : IClassFixture<ZooKeeperDataFixture>
{
    [Fact]
    public async Task keeper_serves_an_imported_zookeeper_tree_exactly_and_writes_with_later_zxids()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        await using var keeper = await ImportIntoKeeperAsync(data);

        ImportScripts.AssertSameTree(zooKeeper.Dump, await ImportScripts.DumpAsync(keeper.ConnectString));
        var write = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            print(zk.create("/after-import", b"new", include_data=True)[1].czxid)
            zk.stop(); zk.close()
            """, keeper.ConnectString);
        Assert.True(write.Succeeded, write + keeper.Diagnostics());
        long lastZooKeeperZxid = zooKeeper.Dump.Select(line => JsonDocument.Parse(line))
            .Max(d => new[] { "czxid", "mzxid", "pzxid" }.Max(k => d.RootElement.GetProperty(k).GetInt64()));
        Assert.True(long.Parse(write.StdOut.Trim()) > lastZooKeeperZxid, $"czxid {write.StdOut.Trim()} is not above ZooKeeper's {lastZooKeeperZxid}");
    }

    [Fact]
    public async Task replaying_every_log_from_zookeepers_first_snapshot_gives_the_same_tree()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        var snapshots = ZooKeeperFiles.Snapshots(ZooKeeperFiles.VersionDirectory(data));
        Assert.True(snapshots.Count > 2, "ZooKeeper took too few snapshots for this test");
        foreach (var later in snapshots.Skip(1)) File.Delete(later.Path);

        await using var keeper = await ImportIntoKeeperAsync(data);
        ImportScripts.AssertSameTree(zooKeeper.Dump, await ImportScripts.DumpAsync(keeper.ConnectString));
    }

    /// <summary>
    /// ZooKeeper's snapshots are fuzzy: one named for zxid Z may already hold txns after Z, which the import replays
    /// again. Naming the newest snapshot for an older zxid makes every txn in between such a txn.
    /// </summary>
    [Fact]
    public async Task txns_that_a_fuzzy_snapshot_already_holds_are_replayed_harmlessly()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        var snapshots = ZooKeeperFiles.Snapshots(ZooKeeperFiles.VersionDirectory(data));
        Assert.True(snapshots.Count > 4, "ZooKeeper took too few snapshots for this test");
        var newest = snapshots[^1];
        var older = snapshots[^4];
        foreach (var s in snapshots.Skip(snapshots.Count - 4).SkipLast(1)) File.Delete(s.Path);
        File.Move(newest.Path, older.Path);

        await using var keeper = await ImportIntoKeeperAsync(data);
        ImportScripts.AssertSameTree(zooKeeper.Dump, await ImportScripts.DumpAsync(keeper.ConnectString));
    }

    [Fact]
    public async Task an_import_never_replaces_keeper_data()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        var config = ImportScripts.WriteConfig(dir.Path);
        var first = await ImportScripts.ImportAsync(config, "--from", data);
        Assert.True(first.Succeeded, first.ToString());
        var snapshot = Directory.GetFiles(Path.Combine(dir.Path, "keeper-data"), "snapshot.*").Single();
        var written = File.ReadAllBytes(snapshot);

        var second = await ImportScripts.ImportAsync(config, "--from", data);
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("Keeper already has data", second.StdErr);
        Assert.Contains(snapshot, second.StdErr);
        Assert.Equal(written, File.ReadAllBytes(snapshot));
    }

    [Fact]
    public async Task a_torn_entry_at_the_end_of_the_newest_log_is_dropped_with_a_warning_naming_the_file()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        var expected = ImportInProcess(zooKeeper.CopyData(Directory.CreateDirectory(Path.Combine(dir.Path, "clean")).FullName),
            Path.Combine(dir.Path, "clean-keeper"));
        var newest = ZooKeeperFiles.Logs(ZooKeeperFiles.VersionDirectory(data))[^1];
        long end = ZooKeeperTxnLogReader.Read(newest, isNewest: true, _ => { })[^1].End;
        // What a crash leaves when the JVM's buffer reached the file halfway through an entry: its checksum, its
        // length, part of its bytes, then the preallocated zeros.
        using (var file = new FileStream(newest.Path, FileMode.Open, FileAccess.Write))
        {
            file.Position = end;
            file.Write([0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 120]);
            file.Write(Enumerable.Repeat((byte)0x41, 40).ToArray());
        }

        var import = await ImportScripts.ImportAsync(ImportScripts.WriteConfig(dir.Path), "--from", data);
        Assert.True(import.Succeeded, import.ToString());
        Assert.Contains($"{newest.Path}: the entry at offset {end} is incomplete", import.StdOut + import.StdErr);
        Assert.Contains($"Imported {expected.Nodes} znodes", import.StdOut);
        Assert.Contains($"last zxid 0x{expected.LastZxid:x}.", import.StdOut);
    }

    [Fact]
    public async Task a_damaged_log_entry_followed_by_more_stops_the_import_naming_the_file()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        // From the first snapshot on, every log is replayed; the first log has many entries after its first.
        var version2 = ZooKeeperFiles.VersionDirectory(data);
        foreach (var later in ZooKeeperFiles.Snapshots(version2).Skip(1)) File.Delete(later.Path);
        var damaged = ZooKeeperFiles.Logs(version2)[0];
        var entries = ZooKeeperTxnLogReader.Read(damaged, isNewest: false, _ => { });
        Assert.True(entries.Count >= 2, $"{damaged.Path} has {entries.Count} entries; the test needs two");
        using (var file = new FileStream(damaged.Path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = entries[0].Offset + 12 + 30; // inside the txn header's type
            int b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0x5a));
        }

        var import = await ImportScripts.ImportAsync(ImportScripts.WriteConfig(dir.Path), "--from", data);
        Assert.Equal(1, import.ExitCode);
        Assert.Contains($"{damaged.Path}: the entry at offset {entries[0].Offset} is damaged (checksum", import.StdErr);
        Assert.Empty(Directory.Exists(Path.Combine(dir.Path, "keeper-data")) ? Directory.GetFiles(Path.Combine(dir.Path, "keeper-data"), "snapshot.*") : []);
    }

    [Fact]
    public async Task a_truncated_snapshot_with_nothing_older_stops_the_import_naming_the_file()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        var snapshots = ZooKeeperFiles.Snapshots(ZooKeeperFiles.VersionDirectory(data));
        foreach (var older in snapshots.SkipLast(1)) File.Delete(older.Path);
        var newest = snapshots[^1].Path;
        using (var file = new FileStream(newest, FileMode.Open, FileAccess.Write)) file.SetLength(file.Length / 2);

        var import = await ImportScripts.ImportAsync(ImportScripts.WriteConfig(dir.Path), "--from", data);
        Assert.Equal(1, import.ExitCode);
        Assert.Contains($"no valid ZooKeeper snapshot in {Path.GetDirectoryName(newest)}. The newest: {newest}: not a valid ZooKeeper snapshot", import.StdErr);
    }

    [Fact]
    public async Task a_damaged_newest_snapshot_is_skipped_for_an_older_one_and_the_logs_after_it()
    {
        using var dir = new TempDirectory();
        var data = zooKeeper.CopyData(dir.Path);
        var newest = ZooKeeperFiles.Snapshots(ZooKeeperFiles.VersionDirectory(data))[^1].Path;
        var bytes = File.ReadAllBytes(newest);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(newest, bytes);

        var import = await ImportScripts.ImportAsync(ImportScripts.WriteConfig(dir.Path), "--from", data);
        Assert.True(import.Succeeded, import.ToString());
        Assert.Contains($"{newest}: not a valid ZooKeeper snapshot", import.StdOut + import.StdErr);
        Assert.Contains($"Imported {zooKeeper.Dump.Count} znodes", import.StdOut);
    }

    /// <summary>A fresh Keeper process (started once, so its directory and port exist, then killed), ZooKeeper's data imported into it, started again.</summary>
    private static async Task<KeeperProcess> ImportIntoKeeperAsync(string zooKeeperData)
    {
        var keeper = await KeeperProcess.StartAsync();
        try
        {
            keeper.Kill();
            var import = await ImportScripts.ImportAsync(keeper.ConfigPath, "--from", zooKeeperData);
            Assert.True(import.Succeeded, import.ToString());
            await keeper.StartAgainAsync();
            return keeper;
        }
        catch
        {
            await keeper.DisposeAsync();
            throw;
        }
    }

    private static ZooKeeperImportResult ImportInProcess(string zooKeeperData, string keeperData) =>
        ZooKeeperImporter.Import(zooKeeperData, null, new KeeperOptions { DataDir = keeperData, ExtendedTypesEnabled = true }, NullLogger.Instance);
}
