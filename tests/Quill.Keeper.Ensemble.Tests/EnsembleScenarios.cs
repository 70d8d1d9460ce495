using Quill.Keeper.Ensemble.Tests.Faults;
using Quill.Keeper.Ensemble.Tests.Harness;
using Quill.Keeper.Ensemble.Tests.History;
using Xunit.Abstractions;

namespace Quill.Keeper.Ensemble.Tests;

/// <summary>
/// The end-to-end scenarios, for any <see cref="EnsembleKind"/>: a subclass picks the server
/// (<see cref="ApacheZooKeeperEnsembleTests"/>; KeeperEnsembleTests.cs for Keeper).
/// </summary>
public abstract class EnsembleScenarios(EnsembleKind kind, ITestOutputHelper output)
{
    private static readonly TimeSpan WorkloadDuration = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task the_harness_finds_the_leader_and_a_paused_leader_is_replaced()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(kind);
        try
        {
            int leader = await ensemble.FindLeaderAsync() ?? throw new InvalidOperationException("no leader after quorum");
            ensemble.Pause(leader);
            int? newLeader = null;
            await WaitUntilAsync(async () => (newLeader = await ensemble.FindLeaderAsync()) is { } l && l != leader, TimeSpan.FromSeconds(45),
                "the two others to elect a new leader while the old one is paused");
            ensemble.Resume(leader);
            await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(newLeader, await ensemble.FindLeaderAsync());

            int follower = Enumerable.Range(0, ensemble.Size).First(i => i != newLeader);
            ensemble.Kill(follower);
            Assert.False(ensemble.Members[follower].IsRunning);
            Assert.Null(await ensemble.Members[follower].ModeAsync(TimeSpan.FromSeconds(2)));
            await ensemble.RestartAsync(follower);
            await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            ensemble.KeepFiles = true;
            output.WriteLine(ensemble.Diagnostics());
            throw;
        }
    }

    [Fact]
    public async Task a_history_without_faults_is_linearizable()
    {
        var result = await RunAsync(FaultKinds.None);
        Assert.DoesNotContain(result.Events, e => !e.What.StartsWith("heal", StringComparison.Ordinal));
        // The workload really ran: every worker got answers, also through each follower.
        Assert.True(result.Report.History.Count(o => o.Outcome == Outcome.Ok && o.F is "write" or "cas" or "read") > 300, result.ToString());
        Assert.Equal(6, result.Report.History.Where(o => !o.IsFinal && o.Outcome == Outcome.Ok).Select(o => o.Process % 6).Distinct().Count());
        Assert.Contains(result.Report.History, o => o.F == "ephemeral" && o.Outcome == Outcome.Ok);
        Assert.Contains(result.Report.History, o => o.F == "create-seq" && o.Outcome == Outcome.Ok);
    }

    [Fact]
    public async Task a_history_across_a_killed_and_restarted_follower_is_linearizable()
    {
        var result = await RunAsync(FaultKinds.KillFollower);
        var started = result.Events.FirstOrDefault(e => e.What.StartsWith("started server", StringComparison.Ordinal));
        Assert.True(started is not null && result.Events.Any(e => e.What.StartsWith("killed server", StringComparison.Ordinal)), result.ToString());
        // Writes were acknowledged after the restart, so the check covers the ensemble after the fault.
        Assert.Contains(result.Report.History, o => o.F == "write" && o.Outcome == Outcome.Ok && o.InvokedNs > started!.TimeNs - result.StartNs);
    }

    private async Task<FaultRunResult> RunAsync(FaultKinds faults)
    {
        var options = new FaultRunOptions(kind, WorkloadDuration, faults) { CheckBudgetPerKey = TimeSpan.FromSeconds(20) };
        var result = await FaultRun.RunAsync(options, output.WriteLine);
        output.WriteLine(result.ToString());
        Assert.True(result.Valid, result.ToString());
        return result;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {what}");
            await Task.Delay(200);
        }
    }
}

/// <summary>The scenarios on a 3-server Apache ZooKeeper 3.8 ensemble: they validate the harness and the checker.</summary>
public sealed class ApacheZooKeeperEnsembleTests(ITestOutputHelper output) : EnsembleScenarios(EnsembleKind.ApacheZooKeeper, output);
