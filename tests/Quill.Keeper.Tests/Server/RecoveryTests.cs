using Quill.Keeper.Protocol;

namespace Quill.Keeper.Tests.Server;

/// <summary>Snapshots every snapCount txns, and recovery from the newest snapshot plus the log after it.</summary>
public sealed class RecoveryTests
{
    [Fact]
    public async Task StateIsRebuiltFromSnapshotsAndTheLogAfterThem()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => o.SnapCount = 10);
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            for (int i = 0; i < 55; i++)
            {
                var (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest($"/n{i}", [(byte)i], [.. Acl.OpenAclUnsafe], 0));
                Assert.Equal(ErrorCode.Ok, h.Err);
            }
            var (s, _) = await c.CallAsync(OpCode.SetData, new SetDataRequest("/n7", "changed"u8.ToArray(), 0));
            Assert.Equal(ErrorCode.Ok, s.Err);
            var (d, _) = await c.CallAsync(OpCode.Delete, new DeleteRequest("/n8", -1));
            Assert.Equal(ErrorCode.Ok, d.Err);
        }
        // Snapshots are written off the request thread; give the last one a moment.
        var deadline = DateTime.UtcNow.AddSeconds(30); // a busy disk or CPU can hold a snapshot up for a while
        while (Directory.GetFiles(keeper.Dir, "snapshot.*").Length < 5 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.True(Directory.GetFiles(keeper.Dir, "snapshot.*").Length >= 5, "expected a snapshot every 10 txns");

        await keeper.RestartAsync(o => o.SnapCount = 10);
        var (again, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (again)
        {
            var (h, body) = await again.CallAsync(OpCode.GetChildren, new PathWatchRequest("/", false));
            Assert.Equal(ErrorCode.Ok, h.Err);
            var r = new JuteReader(body);
            var children = GetChildrenResponse.Read(ref r).Children;
            Assert.Equal(54 + 1, children.Count); // n0..n54 without n8, plus /zookeeper
            Assert.DoesNotContain("n8", children);

            (h, body) = await again.CallAsync(OpCode.GetData, new PathWatchRequest("/n7", false));
            r = new JuteReader(body);
            var data = GetDataResponse.Read(ref r);
            Assert.Equal("changed"u8.ToArray(), data.Data);
            Assert.Equal(1, data.Stat.Version);

            (h, body) = await again.CallAsync(OpCode.GetData, new PathWatchRequest("/n54", false));
            r = new JuteReader(body);
            Assert.Equal([54], GetDataResponse.Read(ref r).Data);

            // New writes carry on from the recovered zxid.
            var (created, _) = await again.CallAsync(OpCode.Create, new CreateRequest("/after", [], [.. Acl.OpenAclUnsafe], 0));
            Assert.Equal(ErrorCode.Ok, created.Err);
            Assert.True(created.Zxid > h.Zxid);
        }
    }

    [Fact]
    public async Task SequentialCountersAndParentVersionsSurviveARestart()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => o.SnapCount = 4);
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            await c.CallAsync(OpCode.Create, new CreateRequest("/q", [], [.. Acl.OpenAclUnsafe], 0));
            for (int i = 0; i < 6; i++) await c.CallAsync(OpCode.Create, new CreateRequest("/q/item-", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentSequential));
        }
        await keeper.RestartAsync(o => o.SnapCount = 4);
        var (again, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (again)
        {
            var (h, body) = await again.CallAsync(OpCode.Create, new CreateRequest("/q/item-", [], [.. Acl.OpenAclUnsafe], (int)CreateMode.PersistentSequential));
            Assert.Equal(ErrorCode.Ok, h.Err);
            var r = new JuteReader(body);
            Assert.Equal("/q/item-0000000006", CreateResponse.Read(ref r).Path);
        }
    }
}
