using Microsoft.Extensions.Logging;
using Quill.Keeper.Storage;

namespace Quill.Keeper.Tests.Storage;

public class SnapshotStoreTests
{
    private static byte[] BodyFor(long zxid, int size = 10_000)
    {
        var body = new byte[size];
        new Random((int)zxid).NextBytes(body);
        return body;
    }

    private static void WriteSnapshot(SnapshotStore store, long zxid) =>
        store.Write(zxid, stream =>
        {
            var body = BodyFor(zxid);
            stream.Write(body.AsSpan(0, 100));
            stream.WriteByte(body[100]);
            stream.Write(body, 101, body.Length - 101);
        });

    [Fact]
    public void Written_snapshot_reads_back_as_the_latest()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, new ListLogger());
        Assert.Null(store.ReadLatestValid());

        WriteSnapshot(store, 0x10);
        var path = store.Write(0x2a, stream => { using var writer = new BinaryWriter(stream); writer.Write(BodyFor(0x2a)); });

        Assert.Equal(dir.File("snapshot.2a"), path);
        Assert.Equal(["snapshot.10", "snapshot.2a"], dir.FileNames());
        var (zxid, body) = store.ReadLatestValid()!.Value;
        Assert.Equal(0x2a, zxid);
        Assert.Equal(BodyFor(0x2a), body);
    }

    [Fact]
    public void Empty_body_is_a_valid_snapshot()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, new ListLogger());
        store.Write(5, _ => { });
        var latest = store.ReadLatestValid()!.Value;
        Assert.Equal(5, latest.Zxid);
        Assert.Empty(latest.Body);
    }

    [Theory]
    [InlineData("body")]
    [InlineData("header")]
    [InlineData("truncated")]
    [InlineData("renamed")]
    public void Invalid_newest_snapshot_falls_back_to_the_previous_one(string damage)
    {
        using var dir = new TempDirectory();
        var logger = new ListLogger();
        var store = new SnapshotStore(dir.Path, logger);
        WriteSnapshot(store, 0x10);
        WriteSnapshot(store, 0x20);
        var newest = dir.File("snapshot.20");
        switch (damage)
        {
            case "body":
                var bytes = File.ReadAllBytes(newest);
                bytes[5000] ^= 1;
                File.WriteAllBytes(newest, bytes);
                break;
            case "header":
                bytes = File.ReadAllBytes(newest);
                bytes[17] ^= 1; // body length
                File.WriteAllBytes(newest, bytes);
                break;
            case "truncated":
                using (var file = new FileStream(newest, FileMode.Open)) file.SetLength(file.Length - 1);
                break;
            case "renamed": // the header's zxid must match the name
                File.Move(dir.File("snapshot.10"), dir.File("snapshot.30"));
                newest = dir.File("snapshot.30");
                break;
        }

        var (zxid, body) = store.ReadLatestValid()!.Value;
        Assert.Equal(damage == "renamed" ? 0x20 : 0x10, zxid);
        Assert.Equal(BodyFor(zxid), body);
        Assert.Contains(logger.At(LogLevel.Warning), m => m.Contains(Path.GetFileName(newest)) && m.Contains("invalid"));
    }

    [Fact]
    public void No_valid_snapshot_gives_null()
    {
        using var dir = new TempDirectory();
        var logger = new ListLogger();
        var store = new SnapshotStore(dir.Path, logger);
        File.WriteAllBytes(dir.File("snapshot.1"), new byte[100]);
        Assert.Null(store.ReadLatestValid());
        Assert.Contains(logger.At(LogLevel.Warning), m => m.Contains("None of the 1 snapshots"));
    }

    [Fact]
    public void Failed_write_leaves_no_file_and_keeps_the_previous_snapshot()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, new ListLogger());
        WriteSnapshot(store, 0x10);
        Assert.Throws<InvalidOperationException>(() => store.Write(0x20, stream =>
        {
            stream.Write(new byte[1000]);
            throw new InvalidOperationException("serializer failed");
        }));
        Assert.Equal(["snapshot.10"], dir.FileNames());
        Assert.Equal(0x10, store.ReadLatestValid()!.Value.Zxid);
    }

    [Fact]
    public void Unfinished_temp_snapshots_are_ignored_and_cleaned_up()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, new ListLogger());
        WriteSnapshot(store, 0x10);
        File.WriteAllBytes(dir.File("snapshot.20.tmp"), new byte[64]);
        Assert.Equal(0x10, store.ReadLatestValid()!.Value.Zxid);

        _ = new SnapshotStore(dir.Path, new ListLogger());
        Assert.Equal(["snapshot.10"], dir.FileNames());
    }
}
