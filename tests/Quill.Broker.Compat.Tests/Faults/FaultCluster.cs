using System.Net;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests.Faults;

/// <summary>
/// Brokers 1..N (`quill broker start`) on one Keeper, each behind a <see cref="FaultProxy"/>: a broker advertises its
/// proxy's port (advertised.listeners), so every connection to it from a client or another broker's replica fetcher
/// goes through the proxy, and cutting the proxy cuts the broker off from everyone but Keeper. Its own fetches from
/// other leaders go through their proxies. Brokers can be killed with SIGKILL and started again on the same ports and
/// data, or paused with SIGSTOP.
/// </summary>
public sealed class FaultCluster : IAsyncDisposable
{
    private readonly HashSet<int> _paused = [];
    private readonly HashSet<int> _claimed = [];

    private FaultCluster(KeeperProcess keeper) => Keeper = keeper;

    public KeeperProcess Keeper { get; }
    public SortedDictionary<int, BrokerProcess> Brokers { get; } = [];
    /// <summary>Broker id → the proxy in front of its listener.</summary>
    public SortedDictionary<int, FaultProxy> Proxies { get; } = [];

    public static async Task<FaultCluster> StartAsync(int brokers, IReadOnlyDictionary<string, string> config)
    {
        var cluster = new FaultCluster(await KeeperProcess.StartAsync(tickTime: 500));
        try
        {
            for (int id = 1; id <= brokers; id++)
            {
                // The proxy's port is taken now and listened on once the broker's own port is known (it starts on a free one).
                int proxyPort = FreePort.Get();
                var properties = new Dictionary<string, string>(config) { ["advertised.listeners"] = $"PLAINTEXT://127.0.0.1:{proxyPort}" };
                var broker = await BrokerProcess.StartWithConfigAsync(cluster.Keeper.ConnectString, properties, brokerId: id);
                cluster.Brokers[id] = broker;
                cluster.Proxies[id] = new FaultProxy(new IPEndPoint(IPAddress.Loopback, broker.KafkaPort), proxyPort);
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every broker's proxy, as bootstrap servers.</summary>
    public string BootstrapServers => string.Join(',', Proxies.Values.Select(p => $"127.0.0.1:{p.Port}"));

    public bool IsPaused(int broker) => _paused.Contains(broker);

    /// <summary>Takes a broker for one fault (false if another nemesis has it), so faults overlap only on different brokers.</summary>
    public bool TryClaim(int broker)
    {
        lock (_claimed) return _claimed.Add(broker);
    }

    public void Release(int broker)
    {
        lock (_claimed) _claimed.Remove(broker);
    }

    public void Pause(int broker)
    {
        Signal(broker, Sigstop);
        _paused.Add(broker);
    }

    public void Resume(int broker)
    {
        Signal(broker, Sigcont);
        _paused.Remove(broker);
    }

    private void Signal(int broker, int signal)
    {
        int pid = Brokers[broker].ProcessId ?? throw new InvalidOperationException($"broker {broker} is not running");
        if (SendSignal(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed");
    }

    private const int Sigstop = 19, Sigcont = 18;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private async Task<string> KazooAsync(string script, params string[] args)
    {
        var result = await ToolRunner.RunKazooAsync(script, [Keeper.ConnectString, .. args]);
        if (!result.Succeeded) throw new InvalidOperationException($"a kazoo script failed: {result}");
        return result.StdOut.Trim();
    }

    /// <summary>Each partition's state znode: leader, leader epoch, ISR.</summary>
    public async Task<Dictionary<int, (int Leader, int LeaderEpoch, int[] Isr)>> PartitionStatesAsync(string topic)
    {
        string output = await KazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            base = '/brokers/topics/%s/partitions' % sys.argv[2]
            for p in sorted(zk.get_children(base), key=int):
                s = json.loads(zk.get('%s/%s/state' % (base, p))[0])
                print(p, s['leader'], s['leader_epoch'], ','.join(map(str, s['isr'])))
            zk.stop()
            """, topic);
        var states = new Dictionary<int, (int, int, int[])>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Trim().Split(' ');
            states[int.Parse(parts[0])] = (int.Parse(parts[1]), int.Parse(parts[2]),
                parts.Length > 3 && parts[3].Length > 0 ? [.. parts[3].Split(',').Select(int.Parse)] : []);
        }
        return states;
    }

    /// <summary>The broker /controller names, or -1 while there is none.</summary>
    public async Task<int> ControllerAsync()
    {
        string output = await KazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            from kazoo.exceptions import NoNodeError
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            try:
                print(json.loads(zk.get('/controller')[0])['brokerid'])
            except NoNodeError:
                print(-1)
            zk.stop()
            """);
        return int.Parse(output);
    }

    /// <summary>The ids under /brokers/ids.</summary>
    public async Task<int[]> RegisteredBrokersAsync()
    {
        string output = await KazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            print(','.join(zk.get_children('/brokers/ids')))
            zk.stop()
            """);
        return output.Length == 0 ? [] : [.. output.Split(',').Select(int.Parse).Order()];
    }

    public string Diagnostics(int tail = 6000) =>
        string.Join('\n', Brokers.Select(b => $"=== broker {b.Key} ===\n{(b.Value.Output.Length > tail ? b.Value.Output[^tail..] : b.Value.Output)}"))
        + "\n" + Keeper.Diagnostics();

    public async ValueTask DisposeAsync()
    {
        foreach (int id in _paused.ToList())
            if (Brokers[id].ProcessId is not null) Resume(id);
        foreach (var proxy in Proxies.Values) await proxy.DisposeAsync();
        foreach (var broker in Brokers.Values) await broker.DisposeAsync();
        await Keeper.DisposeAsync();
    }
}
