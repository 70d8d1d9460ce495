using System.Collections.Concurrent;
using Quill.Keeper.Protocol;
using Quill.Keeper.Tests.Server;
using Quill.Testing;

namespace Quill.Keeper.Tests.Storage;

/// <summary>
/// Snapshots are written on another thread while writes go on; each must still be the state at its zxid exactly,
/// including when the server is killed (SIGKILL) in the middle of writing one.
/// </summary>
public sealed class SnapshotConsistencyTests
{
    [Fact]
    public async Task Snapshots_taken_under_concurrent_writes_equal_the_log_replayed_to_their_zxid()
    {
        await using var keeper = await InProcessKeeper.StartAsync(o => o.SnapCount = 25);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(c => WriteAsync(keeper.Port, c)));
        // The restart waits for the snapshots in progress and recovers from the newest one.
        await keeper.RestartAsync(o => o.SnapCount = 25);

        int snapshots = SnapshotChecks.AssertAllExact(keeper.Dir, keeper.Dir, keeper.Server.Options.ExtendedTypesEnabled);
        Assert.True(snapshots >= 10, $"expected a snapshot every 25 txns, found {snapshots}");
        var (expected, _) = SnapshotChecks.Replay(new(keeper.Server.Options.ExtendedTypesEnabled), [], SnapshotChecks.ReadLog(keeper.Dir));
        string live = await keeper.Server.Processor!.QueryAsync(() => Convert.ToBase64String(SnapshotChecks.Encode(keeper.Server.Processor!.Tree)));
        Assert.Equal(Convert.ToBase64String(SnapshotChecks.Encode(expected)), live);
    }

    /// <summary>Creates, changes and deletes nodes, some ephemeral, some in multis; closes its session at the end.</summary>
    private static async Task WriteAsync(int port, int client)
    {
        var (c, _) = await RawZkClient.ConnectAsync(port);
        using (c)
        {
            string root = $"/w{client}";
            await c.CallAsync(OpCode.Create, new CreateRequest(root, [], [.. Acl.OpenAclUnsafe], 0));
            for (int i = 0; i < 120; i++)
            {
                var (h, _) = (i % 4) switch
                {
                    0 => await c.CallAsync(OpCode.Create, new CreateRequest($"{root}/n{i}", [(byte)i], [.. Acl.OpenAclUnsafe], 0)),
                    1 => await c.CallAsync(OpCode.Create, new CreateRequest($"{root}/e-", [(byte)i], [.. Acl.OpenAclUnsafe], (int)CreateMode.EphemeralSequential)),
                    2 => await c.CallAsync(OpCode.SetData, new SetDataRequest($"{root}/n{i - 2}", [(byte)i, 1], -1)),
                    _ => i % 8 == 3
                        ? await c.CallAsync(OpCode.Delete, new DeleteRequest($"{root}/n{i - 3}", -1))
                        : await c.CallAsync(OpCode.SetData, new SetDataRequest(root, [(byte)i], -1)),
                };
                Assert.Equal(ErrorCode.Ok, h.Err);
            }
            await c.CallAsync(OpCode.CloseSession, null);
        }
    }

    [Fact]
    public async Task A_kill_while_a_snapshot_is_written_loses_nothing_acknowledged()
    {
        await using var keeper = await KeeperProcess.StartAsync(extraConfig: new Dictionary<string, string> { ["snapCount"] = "50" });
        var acked = new ConcurrentDictionary<string, byte>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(c => Task.Run(() => WriteUntilKilledAsync(keeper.Port, c, acked, stop.Token))).ToList();

        // Kill as soon as a snapshot is seen half written; bigger nodes make each snapshot take longer to write.
        bool sawPartial = false;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!sawPartial && DateTime.UtcNow < deadline)
        {
            sawPartial = Directory.GetFiles(keeper.DataDir, "snapshot.*.tmp").Length > 0 && acked.Count > 500;
            if (!sawPartial) await Task.Delay(1);
        }
        keeper.Kill();
        stop.Cancel();
        await Task.WhenAll(writers);
        Assert.True(sawPartial, $"no snapshot was seen being written within 60 s ({acked.Count} creates acknowledged)");

        Assert.True(SnapshotChecks.AssertAllExact(keeper.DataDir, keeper.DataDir, extendedTypes: true) >= 1);
        await keeper.StartAgainAsync();
        Assert.Empty(Directory.GetFiles(keeper.DataDir, "snapshot.*.tmp"));
        var (c, _) = await RawZkClient.ConnectAsync(keeper.Port);
        using (c)
        {
            foreach (var path in acked.Keys)
            {
                var (h, body) = await c.CallAsync(OpCode.GetData, new PathWatchRequest(path, false));
                Assert.True(h.Err == ErrorCode.Ok, $"{path} was acknowledged but is {h.Err} after recovery");
                var r = new JuteReader(body);
                Assert.Equal(DataOf(path), GetDataResponse.Read(ref r).Data);
            }
        }
    }

    private static async Task WriteUntilKilledAsync(int port, int client, ConcurrentDictionary<string, byte> acked, CancellationToken stop)
    {
        try
        {
            var (c, _) = await RawZkClient.ConnectAsync(port);
            using (c)
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    string path = $"/k{client}-{i}";
                    var (h, _) = await c.CallAsync(OpCode.Create, new CreateRequest(path, DataOf(path), [.. Acl.OpenAclUnsafe], 0));
                    Assert.Equal(ErrorCode.Ok, h.Err);
                    acked[path] = 0;
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            // The server was killed.
        }
    }

    private static byte[] DataOf(string path)
    {
        var data = new byte[2048];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(path.GetHashCode(StringComparison.Ordinal) + i);
        return data;
    }
}
