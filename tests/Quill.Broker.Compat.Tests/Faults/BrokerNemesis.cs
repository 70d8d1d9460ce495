using System.Globalization;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests.Faults;

[Flags]
public enum BrokerFaultKinds
{
    None = 0,
    /// <summary>SIGKILL a partition's leader, then start it again.</summary>
    Kill = 1,
    /// <summary>SIGSTOP a broker for longer than replica.lag.time.max.ms (at times longer than its Keeper session too), then SIGCONT.</summary>
    Pause = 2,
    /// <summary>SIGKILL the controller, then start it again.</summary>
    Controller = 4,
    /// <summary>Cut a broker off from clients and the other brokers (its proxy: black hole or reset), then heal.</summary>
    Partition = 8,
    /// <summary>SIGTERM a partition's leader (a controlled shutdown, as a rolling restart does), start it again once it has exited.</summary>
    Restart = 16,
    All = Kill | Pause | Controller | Partition | Restart,
}

public sealed record NemesisEvent(long TimeMs, string What);

/// <summary>
/// Injects one fault at a time, chosen and timed by a seeded random: hold it a few seconds, heal it, leave the cluster
/// alone a few seconds, next. Every fault is healed before the next; <see cref="HealAllAsync"/> heals whatever a
/// stopped run left.
/// </summary>
public sealed class BrokerNemesis(FaultCluster cluster, string topic, BrokerFaultKinds kinds, int seed, BrokerHistory clock, Action<string> log)
{
    private readonly Random _random = new(seed);
    private static readonly double LagSeconds = double.Parse(BrokerFaultRun.BrokerConfig["replica.lag.time.max.ms"], CultureInfo.InvariantCulture) / 1000;
    private static readonly double SessionTimeoutSeconds = double.Parse(BrokerFaultRun.BrokerConfig["zookeeper.session.timeout.ms"], CultureInfo.InvariantCulture) / 1000;
    private readonly List<NemesisEvent> _events = [];

    public IReadOnlyList<NemesisEvent> Events => _events;
    public int Faults { get; private set; }

    public static BrokerFaultKinds Parse(string text) => text == "none"
        ? BrokerFaultKinds.None
        : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Aggregate(BrokerFaultKinds.None, (all, name) => all | name switch
        {
            "kill" => BrokerFaultKinds.Kill,
            "pause" => BrokerFaultKinds.Pause,
            "controller" => BrokerFaultKinds.Controller,
            "partition" => BrokerFaultKinds.Partition,
            "restart" => BrokerFaultKinds.Restart,
            _ => throw new ArgumentException($"unknown fault '{name}': kill, pause, controller, partition, restart or none"),
        });

    private void Note(string what)
    {
        _events.Add(new NemesisEvent(clock.Now, what));
        log(what);
    }

    private TimeSpan Between(double fromSeconds, double toSeconds) => TimeSpan.FromSeconds(fromSeconds + _random.NextDouble() * (toSeconds - fromSeconds));

    /// <summary>
    /// Faults until <paramref name="duration"/> has passed (the one under way is finished and healed): the chosen kinds
    /// in rounds, each round in a random order, except that a run with leader kills begins with one, so every run sees
    /// a failover.
    /// </summary>
    public async Task RunAsync(TimeSpan duration)
    {
        var chosen = Enum.GetValues<BrokerFaultKinds>().Where(k => k is not BrokerFaultKinds.None and not BrokerFaultKinds.All && kinds.HasFlag(k)).ToArray();
        if (chosen.Length == 0) return;
        var end = DateTime.UtcNow + duration;
        var round = new Queue<BrokerFaultKinds>();
        if (kinds.HasFlag(BrokerFaultKinds.Kill)) round.Enqueue(BrokerFaultKinds.Kill);
        await Task.Delay(Between(2, 4));
        while (DateTime.UtcNow < end)
        {
            if (round.Count == 0)
            {
                var order = chosen.ToArray();
                _random.Shuffle(order);
                foreach (var k in order) round.Enqueue(k);
            }
            await InjectAsync(round.Dequeue());
            await Task.Delay(Between(1, 4));
        }
    }

    private async Task InjectAsync(BrokerFaultKinds kind)
    {
        switch (kind)
        {
            case BrokerFaultKinds.Kill:
                var states = await cluster.PartitionStatesAsync(topic);
                var led = states.Where(s => s.Value.Leader > 0).ToList();
                if (led.Count == 0) break;
                var (partition, state) = led[_random.Next(led.Count)];
                // Down past its Keeper session, so the controller moves its partitions to other replicas.
                var down = Between(SessionTimeoutSeconds + 1, SessionTimeoutSeconds + 5);
                if (cluster.TryClaim(state.Leader))
                    await KillAndRestartAsync(state.Leader, $"the leader of partition {partition}", down);
                break;
            case BrokerFaultKinds.Restart:
                var leaders = (await cluster.PartitionStatesAsync(topic)).Where(s => s.Value.Leader > 0).ToList();
                if (leaders.Count == 0) break;
                var (restartedPartition, restartedState) = leaders[_random.Next(leaders.Count)];
                if (cluster.TryClaim(restartedState.Leader))
                    await TerminateAndRestartAsync(restartedState.Leader, $"the leader of partition {restartedPartition}", Between(0.5, 3));
                break;
            case BrokerFaultKinds.Controller:
                // Sometimes back within its Keeper session (it resumes the session: no election), sometimes not.
                int controller = await cluster.ControllerAsync();
                var gone = Between(0.5, SessionTimeoutSeconds + 2);
                if (controller > 0 && cluster.TryClaim(controller)) await KillAndRestartAsync(controller, "the controller", gone);
                break;
            case BrokerFaultKinds.Pause:
                int paused = cluster.Brokers.Keys.ElementAt(_random.Next(cluster.Brokers.Count));
                // Past replica.lag.time.max.ms; sometimes past the Keeper session too.
                var pause = Between(LagSeconds + 0.3, SessionTimeoutSeconds + 2);
                if (!cluster.TryClaim(paused)) break;
                try
                {
                    Note($"SIGSTOP broker {paused} for {pause.TotalSeconds:F1} s");
                    cluster.Pause(paused);
                    Faults++;
                    await Task.Delay(pause);
                    cluster.Resume(paused);
                    Note($"SIGCONT broker {paused}");
                }
                finally
                {
                    cluster.Release(paused);
                }
                break;
            case BrokerFaultKinds.Partition:
                int cut = cluster.Brokers.Keys.ElementAt(_random.Next(cluster.Brokers.Count));
                var mode = _random.Next(2) == 0 ? CutMode.BlackHole : CutMode.Reset;
                var hold = Between(LagSeconds + 1, LagSeconds + 5);
                if (!cluster.TryClaim(cut)) break;
                try
                {
                    Note($"cut broker {cut} off ({mode}) for {hold.TotalSeconds:F1} s");
                    cluster.Proxies[cut].Cut(mode);
                    Faults++;
                    await Task.Delay(hold);
                    cluster.Proxies[cut].Heal();
                    Note($"healed broker {cut}");
                }
                finally
                {
                    cluster.Release(cut);
                }
                break;
        }
    }

    /// <summary>Kills a broker this nemesis has claimed, starts it again after <paramref name="down"/>, releases it.</summary>
    private async Task KillAndRestartAsync(int broker, string which, TimeSpan down)
    {
        try
        {
            Note($"SIGKILL broker {broker} ({which}), down for {down.TotalSeconds:F1} s");
            cluster.Brokers[broker].Kill();
            Faults++;
            await Task.Delay(down);
            await cluster.Brokers[broker].StartAgainAsync();
            Note($"broker {broker} started again");
        }
        finally
        {
            cluster.Release(broker);
        }
    }

    /// <summary>
    /// Stops a broker this nemesis has claimed with SIGTERM (it moves its leaderships away first), waits for it to exit
    /// (killing it if it has not within 60 s: that is reported), starts it again after <paramref name="down"/>, releases it.
    /// </summary>
    private async Task TerminateAndRestartAsync(int broker, string which, TimeSpan down)
    {
        try
        {
            Note($"SIGTERM broker {broker} ({which}), down for {down.TotalSeconds:F1} s after it exits");
            Faults++;
            int? exit = await cluster.Brokers[broker].TerminateAsync(TimeSpan.FromSeconds(60));
            if (exit is null)
            {
                Note($"broker {broker} did not exit within 60 s of SIGTERM; killing it");
                cluster.Brokers[broker].Kill();
            }
            else
            {
                Note($"broker {broker} exited with code {exit}");
                cluster.Brokers[broker].Kill(); // reaps the exited process so it can start again
            }
            await Task.Delay(down);
            await cluster.Brokers[broker].StartAgainAsync();
            Note($"broker {broker} started again");
        }
        finally
        {
            cluster.Release(broker);
        }
    }

    /// <summary>Resumes paused brokers, heals every proxy and starts every broker that is down.</summary>
    public async Task HealAllAsync()
    {
        foreach (var (id, broker) in cluster.Brokers)
        {
            if (cluster.IsPaused(id)) cluster.Resume(id);
            cluster.Proxies[id].Heal();
            if (!broker.IsRunning)
            {
                await broker.StartAgainAsync();
                Note($"broker {id} started again (heal)");
            }
        }
    }
}
