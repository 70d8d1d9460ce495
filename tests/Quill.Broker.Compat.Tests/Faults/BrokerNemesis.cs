using Quill.Testing;

namespace Quill.Broker.Compat.Tests.Faults;

[Flags]
public enum BrokerFaultKinds
{
    None = 0,
    /// <summary>SIGKILL a partition's leader, then start it again.</summary>
    Kill = 1,
    /// <summary>SIGSTOP a broker for longer than replica.lag.time.max.ms (shorter than its Keeper session), then SIGCONT.</summary>
    Pause = 2,
    /// <summary>SIGKILL the controller, then start it again.</summary>
    Controller = 4,
    /// <summary>Cut a broker off from clients and the other brokers (its proxy: black hole or reset), then heal.</summary>
    Partition = 8,
    All = Kill | Pause | Controller | Partition,
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
            _ => throw new ArgumentException($"unknown fault '{name}': kill, pause, controller, partition or none"),
        });

    private void Note(string what)
    {
        _events.Add(new NemesisEvent(clock.Now, what));
        log(what);
    }

    private TimeSpan Between(double fromSeconds, double toSeconds) => TimeSpan.FromSeconds(fromSeconds + _random.NextDouble() * (toSeconds - fromSeconds));

    /// <summary>Faults until <paramref name="duration"/> has passed (the one under way is finished and healed).</summary>
    public async Task RunAsync(TimeSpan duration)
    {
        var chosen = Enum.GetValues<BrokerFaultKinds>().Where(k => k is not BrokerFaultKinds.None and not BrokerFaultKinds.All && kinds.HasFlag(k)).ToArray();
        if (chosen.Length == 0) return;
        var end = DateTime.UtcNow + duration;
        await Task.Delay(Between(2, 4));
        while (DateTime.UtcNow < end)
        {
            var kind = chosen[_random.Next(chosen.Length)];
            switch (kind)
            {
                case BrokerFaultKinds.Kill:
                    var states = await cluster.PartitionStatesAsync(topic);
                    var led = states.Where(s => s.Value.Leader > 0).ToList();
                    if (led.Count == 0) break;
                    var (partition, state) = led[_random.Next(led.Count)];
                    await KillAndRestartAsync(state.Leader, $"the leader of partition {partition}");
                    break;
                case BrokerFaultKinds.Controller:
                    int controller = await cluster.ControllerAsync();
                    if (controller > 0) await KillAndRestartAsync(controller, "the controller");
                    break;
                case BrokerFaultKinds.Pause:
                    int paused = cluster.Brokers.Keys.ElementAt(_random.Next(cluster.Brokers.Count));
                    var pause = Between(3.5, 5.5);
                    Note($"SIGSTOP broker {paused} for {pause.TotalSeconds:F1} s");
                    cluster.Pause(paused);
                    Faults++;
                    await Task.Delay(pause);
                    cluster.Resume(paused);
                    Note($"SIGCONT broker {paused}");
                    break;
                case BrokerFaultKinds.Partition:
                    int cut = cluster.Brokers.Keys.ElementAt(_random.Next(cluster.Brokers.Count));
                    var mode = _random.Next(2) == 0 ? CutMode.BlackHole : CutMode.Reset;
                    var hold = Between(4, 8);
                    Note($"cut broker {cut} off ({mode}) for {hold.TotalSeconds:F1} s");
                    cluster.Proxies[cut].Cut(mode);
                    Faults++;
                    await Task.Delay(hold);
                    cluster.Proxies[cut].Heal();
                    Note($"healed broker {cut}");
                    break;
            }
            await Task.Delay(Between(2, 5));
        }
    }

    private async Task KillAndRestartAsync(int broker, string which)
    {
        var down = Between(1, 5);
        Note($"SIGKILL broker {broker} ({which}), down for {down.TotalSeconds:F1} s");
        cluster.Brokers[broker].Kill();
        Faults++;
        await Task.Delay(down);
        await cluster.Brokers[broker].StartAgainAsync();
        Note($"broker {broker} started again");
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
