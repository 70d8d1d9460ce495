using System.Collections;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Keeper.Protocol;
using Quill.Keeper.Storage;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Tests.Storage;

public sealed class SnapshotterTests
{
    /// <summary>Sessions whose first read blocks until released: a snapshot that takes as long as the test wants.</summary>
    private sealed class SlowSessions : IReadOnlyList<(long Id, int TimeoutMs)>
    {
        public readonly SemaphoreSlim Entered = new(0);
        public readonly SemaphoreSlim Release = new(0);

        public int Count
        {
            get
            {
                Entered.Release();
                Assert.True(Release.Wait(TimeSpan.FromSeconds(60)), "the test never released the snapshot");
                return 0;
            }
        }

        public (long Id, int TimeoutMs) this[int index] => throw new ArgumentOutOfRangeException(nameof(index));
        public IEnumerator<(long Id, int TimeoutMs)> GetEnumerator() => Enumerable.Empty<(long, int)>().GetEnumerator();
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public async Task snapshots_due_while_one_is_written_coalesce_into_the_newest()
    {
        using var dir = new TempDirectory();
        int rolls = 0;
        var snapshotter = new Snapshotter(new SnapshotStore(dir.Path, NullLogger.Instance), () => rolls++, NullLogger.Instance);
        var tree = new DataTree(extendedTypes: false);
        StateImage Next(IReadOnlyList<(long, int)> sessions)
        {
            long zxid = tree.LastZxid + 1;
            Assert.Equal(ErrorCode.Ok, tree.Apply(zxid, 0, 0, new CreateTxn($"/n{zxid}", [], Acl.OpenAclUnsafe, 0, (int)zxid)).Err);
            return new StateImage(sessions, tree.Capture());
        }

        var slow = new SlowSessions();
        snapshotter.Take(Next(slow));
        Assert.True(await slow.Entered.WaitAsync(TimeSpan.FromSeconds(60)), "the first snapshot never started");
        for (int i = 0; i < 5; i++) snapshotter.Take(Next([]));
        slow.Release.Release();
        await snapshotter.Idle.WaitAsync(TimeSpan.FromSeconds(60));

        // The one being written, then only the newest of the five that came due meanwhile.
        var written = Directory.GetFiles(dir.Path, StorageFiles.SnapshotPrefix + "*").Select(Path.GetFileName).Order().ToList();
        Assert.Equal([StorageFiles.SnapshotFileName(1), StorageFiles.SnapshotFileName(6)], written);
        Assert.Equal(6, rolls);
        var latest = new SnapshotStore(dir.Path, NullLogger.Instance).ReadLatestValid();
        Assert.Equal(6, latest!.Value.Zxid);
    }
}
