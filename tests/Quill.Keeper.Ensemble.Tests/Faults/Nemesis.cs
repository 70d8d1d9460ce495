using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using Quill.Testing;
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
    /// <summary>Cut the leader off from every other server (black hole or reset) long enough for the majority to
    /// elect a new one, then heal.</summary>
    IsolateLeader = 8,
    /// <summary>Cut one follower off from every other server, then heal.</summary>
    IsolateFollower = 16,
    /// <summary>Five servers or more: two groups that cannot reach each other, and one server (the leader when it can
    /// be) that reaches both, then heal.</summary>
    Bridge = 32,
    /// <summary>Any of the partitions.</summary>
    Partition = IsolateLeader | IsolateFollower | Bridge,
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

    /// <summary>Parses "kill,pause,kill-follower,partition" (or "none"; the partitions one by one as
    /// partition-leader, partition-follower, partition-bridge).</summary>
    public static FaultKinds Parse(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Aggregate(FaultKinds.None, (all, name) => all | name switch
        {
            "kill" => FaultKinds.Kill,
            "kill-follower" => FaultKinds.KillFollower,
            "pause" => FaultKinds.PauseLeader,
            "partition" => FaultKinds.Partition,
            "partition-leader" => FaultKinds.IsolateLeader,
            "partition-follower" => FaultKinds.IsolateFollower,
            "partition-bridge" => FaultKinds.Bridge,
            "none" => FaultKinds.None,
            _ => throw new ArgumentException(
                $"unknown fault '{name}': kill, kill-follower, pause, partition (partition-leader, partition-follower, partition-bridge) or none"),
        });

    public async Task RunAsync(TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        // Single faults only (not the Partition group); a bridge needs five servers.
        var kinds = Enum.GetValues<FaultKinds>()
            .Where(f => BitOperations.IsPow2((int)f) && faults.HasFlag(f) && (f != FaultKinds.Bridge || ensemble.Size >= 5))
            .ToList();
        TimeSpan Left() => duration - clock.Elapsed;
        try
        {
            while (kinds.Count > 0)
            {
                var quiet = Seconds(2, 5);
                if (Left() < quiet + TimeSpan.FromSeconds(4)) break;
                await Task.Delay(quiet);
                var kind = kinds[_random.Next(kinds.Count)];
                switch (kind)
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
                    case FaultKinds.IsolateLeader or FaultKinds.IsolateFollower or FaultKinds.Bridge:
                        await PartitionAsync(kind, Left);
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

    /// <summary>
    /// Cuts the links between two sides for longer than syncLimit (the servers notice and elect on the majority side),
    /// then heals and waits until the cut-off servers serve again. Half of the partitions are black holes (nothing
    /// passes, nobody is told), half reset every connection across the cut.
    /// </summary>
    private async Task PartitionAsync(FaultKinds kind, Func<TimeSpan> left)
    {
        var network = ensemble.Network ?? throw new InvalidOperationException("partitions need an ensemble started with networkFaults");
        if (await ensemble.FindLeaderAsync() is not { } leader) return;
        var all = Enumerable.Range(0, ensemble.Size).ToList();
        var followers = all.Where(i => i != leader).ToList();
        List<int> side, other;
        string what;
        switch (kind)
        {
            case FaultKinds.IsolateLeader:
                (side, other, what) = ([leader], followers, $"isolated leader {Id(leader)}");
                break;
            case FaultKinds.IsolateFollower:
                int follower = followers[_random.Next(followers.Count)];
                (side, other, what) = ([follower], all.Where(i => i != follower).ToList(), $"isolated follower {Id(follower)}");
                break;
            default:
                // The leader bridges two minorities: each side alone has no quorum, but with the bridge both do.
                var shuffled = followers.OrderBy(_ => _random.Next()).ToList();
                side = shuffled.Take(shuffled.Count / 2).ToList();
                other = shuffled.Skip(shuffled.Count / 2).ToList();
                what = $"bridge: {Ids(side)} | leader {Id(leader)} | {Ids(other)}";
                break;
        }
        var mode = _random.Next(2) == 0 ? CutMode.BlackHole : CutMode.Reset;
        network.Partition(side, other, mode);
        Record($"{what} ({(mode == CutMode.BlackHole ? "black hole" : "reset")}; cut off {Ids(side)} from {Ids(other)})");
        await Task.Delay(Min(Seconds(8, 14), left()));
        network.HealAll();
        Record("healed the network");
        await WaitQuietlyAsync(async () =>
            {
                foreach (int i in all)
                    if (await ensemble.Members[i].ModeAsync(TimeSpan.FromSeconds(2)) is not ("leader" or "follower")) return false;
                return true;
            },
            Min(TimeSpan.FromSeconds(30), left()), "every server to serve after the partition healed");
    }

    private string Id(int index) => ensemble.Members[index].Id.ToString(CultureInfo.InvariantCulture);

    private string Ids(IEnumerable<int> indexes) => string.Join(',', indexes.Select(Id));

    private async Task HealAsync()
    {
        if (ensemble.Network is { AnyCut: true } network)
        {
            network.HealAll();
            Record("healing: the network");
        }
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
