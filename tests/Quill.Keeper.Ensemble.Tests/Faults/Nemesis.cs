using System.Diagnostics;
using Quill.Keeper.Ensemble.Tests.Harness;

namespace Quill.Keeper.Ensemble.Tests.Faults;

/// <summary>The faults a <see cref="Nemesis"/> may inject.</summary>
[Flags]
public enum FaultKinds
{
    None = 0,
    /// <summary>SIGKILL a follower, start it again a few seconds later.</summary>
    KillFollower = 1,
    /// <summary>SIGKILL any server (the leader too), start it again a few seconds later.</summary>
    Kill = 2,
    /// <summary>SIGSTOP the leader long enough for the others to elect a new one, then SIGCONT it.</summary>
    PauseLeader = 4,
}

/// <summary>A fault as it happened, on the workload's clock (CLOCK_MONOTONIC, ns).</summary>
public sealed record NemesisEvent(long TimeNs, string What);

/// <summary>
/// Injects faults into an ensemble while the workload runs: quiet for a few seconds, one fault held for a few seconds,
/// healed, and again, until its time is up; then everything is healed (paused servers resumed, killed ones started)
/// and the quorum awaited. Hold times are cut to the time left, so the nemesis ends when it is told to.
/// </summary>
public sealed class Nemesis(EnsembleProcess ensemble, FaultKinds faults, int seed, Action<string> log)
{
    private readonly Random _random = new(seed);
    private readonly List<NemesisEvent> _events = [];

    public IReadOnlyList<NemesisEvent> Events => _events;

    /// <summary>Parses "kill,pause,kill-follower" (or "none").</summary>
    public static FaultKinds Parse(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Aggregate(FaultKinds.None, (all, name) => all | name switch
        {
            "kill" => FaultKinds.Kill,
            "kill-follower" => FaultKinds.KillFollower,
            "pause" => FaultKinds.PauseLeader,
            "none" => FaultKinds.None,
            _ => throw new ArgumentException($"unknown fault '{name}': kill, kill-follower, pause or none"),
        });

    public async Task RunAsync(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var kinds = Enum.GetValues<FaultKinds>().Where(f => f != FaultKinds.None && faults.HasFlag(f)).ToList();
        TimeSpan Left() => duration - clock.Elapsed;
        try
        {
            while (kinds.Count > 0)
            {
                var quiet = Seconds(2, 5);
                if (Left() < quiet + TimeSpan.FromSeconds(4)) break;
                await Task.Delay(quiet);
                switch (kinds[_random.Next(kinds.Count)])
                {
                    case FaultKinds.Kill:
                        await KillAndRestartAsync(_random.Next(ensemble.Size), Left);
                        break;
                    case FaultKinds.KillFollower:
                        var leader = await ensemble.FindLeaderAsync();
                        var followers = Enumerable.Range(0, ensemble.Size).Where(i => i != leader && ensemble.Members[i].IsRunning).ToList();
                        if (leader is not null && followers.Count > 0) await KillAndRestartAsync(followers[_random.Next(followers.Count)], Left);
                        break;
                    case FaultKinds.PauseLeader:
                        await PauseLeaderAsync(Left);
                        break;
                }
            }
        }
        finally
        {
            await HealAsync();
        }
    }

    private async Task KillAndRestartAsync(int index, Func<TimeSpan> left)
    {
        int id = ensemble.Members[index].Id;
        ensemble.Kill(index);
        Record($"killed server {id} (SIGKILL)");
        await Task.Delay(Min(Seconds(2, 6), left()));
        ensemble.Start(index);
        Record($"started server {id}");
        await WaitQuietlyAsync(async () => await ensemble.Members[index].ModeAsync(TimeSpan.FromSeconds(2)) is "leader" or "follower",
            Min(TimeSpan.FromSeconds(30), left()), $"server {id} to rejoin");
    }

    private async Task PauseLeaderAsync(Func<TimeSpan> left)
    {
        if (await ensemble.FindLeaderAsync() is not { } index) return;
        int id = ensemble.Members[index].Id;
        ensemble.Pause(index);
        Record($"paused leader {id} (SIGSTOP)");
        // Longer than syncLimit (5 ticks): the followers give up on it and elect another leader meanwhile.
        await Task.Delay(Min(Seconds(8, 14), left()));
        ensemble.Resume(index);
        Record($"resumed server {id} (SIGCONT)");
        await WaitQuietlyAsync(async () => await ensemble.Members[index].ModeAsync(TimeSpan.FromSeconds(2)) is "leader" or "follower",
            Min(TimeSpan.FromSeconds(30), left()), $"server {id} to serve again");
    }

    private async Task HealAsync()
    {
        for (int i = 0; i < ensemble.Size; i++)
        {
            var member = ensemble.Members[i];
            if (member.IsPaused)
            {
                ensemble.Resume(i);
                Record($"healing: resumed server {member.Id}");
            }
            else if (!member.IsRunning)
            {
                ensemble.Start(i);
                Record($"healing: started server {member.Id}");
            }
        }
        await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(90));
        Record("healed: every server leader or follower");
    }

    /// <summary>A slow recovery is part of what the run observes, not a reason to stop it: logged, not thrown.</summary>
    private async Task WaitQuietlyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition()) return;
            await Task.Delay(200);
        }
        Record($"still waiting for {what} after {timeout.TotalSeconds:F0} s");
    }

    private void Record(string what)
    {
        var e = new NemesisEvent(NowNs(), what);
        lock (_events) _events.Add(e);
        log($"nemesis: {what}");
    }

    /// <summary>CLOCK_MONOTONIC in ns, the clock of the workload's time_ns (Stopwatch reads it on Linux).</summary>
    public static long NowNs() => (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));

    private TimeSpan Seconds(double from, double to) => TimeSpan.FromSeconds(from + _random.NextDouble() * (to - from));

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.Zero ? TimeSpan.Zero : a) : (b < TimeSpan.Zero ? TimeSpan.Zero : b);
}
