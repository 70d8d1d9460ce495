using System.Text;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;
using Quill.Testing;

namespace Quill.Compat.Tests.Ensemble;

/// <summary>
/// Clients other than kazoo on a Keeper ensemble: zkCli (Apache ZooKeeper's Java client) writes and reads through
/// different members, and Quill's client keeps its session, ephemeral and watch (set again on the new member with
/// setWatches) when the member it talks to is killed.
/// </summary>
public sealed class EnsembleClientsTests
{
    [Fact]
    public async Task zkcli_writes_through_one_member_and_reads_the_same_through_another_and_quills_client_moves_with_its_session_ephemeral_and_watch()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3);
        var created = await ToolRunner.RunZkCliAsync(ensemble[1].ConnectString, "create", "/w", "v1");
        Assert.Contains("Created /w", created.Messages);

        await using var client = await KeeperClient.ConnectAsync(ensemble.ConnectString);
        await client.CreateAsync("/eph", null, mode: CreateMode.Ephemeral);
        var fired = new TaskCompletionSource<WatchedEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.SyncAsync("/w");
        var data = await client.GetDataAsync("/w", e => fired.TrySetResult(e));
        Assert.Equal("v1", Encoding.UTF8.GetString(data.Data!));
        long session = client.SessionId;

        KeeperEnsemble.Member? serving = null;
        foreach (var m in ensemble.Members)
            if ((await m.FourLetterWordAsync("cons")).Contains($"sid=0x{session:x}", StringComparison.Ordinal)) serving = m;
        Assert.True(serving is not null, $"no member lists session 0x{session:x} in cons\n{ensemble.Diagnostics()}");
        serving!.Kill();
        await ensemble.WaitForRolesAsync(2);

        var other = ensemble.Members.First(m => m.IsRunning);
        var set = await ToolRunner.RunZkCliAsync(other.ConnectString, "set", "/w", "v2");
        Assert.Equal(0, set.ExitCode);
        var e = await fired.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("/w", e.Path);
        Assert.Equal(session, client.SessionId);
        Assert.NotNull(await client.ExistsAsync("/eph"));
        var get = await ToolRunner.RunZkCliAsync(ensemble.Members.Last(m => m.IsRunning).ConnectString, "get", "/w");
        Assert.Contains("v2", get.Output);
    }
}
