using System.Diagnostics;
using Quill.Keeper.Ensemble.Tests.Harness;
using Quill.Testing;
using Xunit.Abstractions;

namespace Quill.Keeper.Ensemble.Tests;

/// <summary>The same scenarios on a 3-server Keeper ensemble (quill keeper start --config with server.N lines), and
/// Keeper's own regressions.</summary>
public sealed class KeeperEnsembleTests(ITestOutputHelper output) : EnsembleScenarios(EnsembleKind.Keeper, output)
{
    /// <summary>
    /// A looking server resends its vote with a doubling wait (0.2 s, 0.4 s, ... up to a minute). A follower cut off
    /// for 13 s of looking waits 12.8 s for its next resend, so it used to rejoin some 10 s after the partition healed;
    /// its transport now sends the owed vote again every second while the connection is down.
    /// </summary>
    [Fact]
    public async Task a_follower_cut_off_for_long_rejoins_within_seconds_of_the_partition_healing()
    {
        await using var ensemble = await EnsembleProcess.StartAsync(EnsembleKind.Keeper, networkFaults: true);
        try
        {
            int leader = await ensemble.FindLeaderAsync() ?? throw new InvalidOperationException("no leader after quorum");
            int follower = Enumerable.Range(0, ensemble.Size).First(i => i != leader);
            var member = ensemble.Members[follower];
            ensemble.Network!.Isolate(follower, CutMode.Reset);
            await WaitUntilAsync(async () => await member.ModeAsync(TimeSpan.FromSeconds(2)) is null, TimeSpan.FromSeconds(30),
                "the cut-off follower to stop serving and look for a leader");
            // The fault is held for a while (this is not waiting for a condition): long enough for the backoff to grow.
            await Task.Delay(TimeSpan.FromSeconds(13));
            Assert.Null(await member.ModeAsync(TimeSpan.FromSeconds(2)));
            ensemble.Network.HealAll();
            var sinceHeal = Stopwatch.StartNew();
            // The owed vote goes out within a second; the rest is the election and the sync on a busy machine.
            var limit = TimeSpan.FromSeconds(8);
            await WaitUntilAsync(async () => await member.ModeAsync(TimeSpan.FromSeconds(2)) == "follower", TimeSpan.FromSeconds(60),
                "the follower to rejoin after the heal");
            Output.WriteLine($"the follower rejoined {sinceHeal.Elapsed.TotalSeconds:F1} s after the heal");
            Assert.True(sinceHeal.Elapsed < limit,
                $"the follower rejoined {sinceHeal.Elapsed.TotalSeconds:F1} s after the heal; expected within {limit.TotalSeconds:F0} s");
            Assert.Equal(leader, await ensemble.FindLeaderAsync());
        }
        catch
        {
            ensemble.KeepFiles = true;
            Output.WriteLine(ensemble.Diagnostics());
            throw;
        }
    }
}
