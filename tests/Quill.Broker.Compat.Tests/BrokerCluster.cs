using Quill.Kafka.Protocol.Messages;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// A cluster of real processes on 127.0.0.1: one Keeper (`quill keeper start`, or Apache ZooKeeper 3.8) and brokers 1..N
/// (`quill broker start`, each with its own port, data dir and broker.rack "rack-N") registered in it. Keeper
/// sessions last 6 s, so a broker killed with SIGKILL leaves the cluster within seconds.
/// </summary>
public sealed class BrokerCluster : IAsyncDisposable
{
    public const int SessionTimeoutMs = 6000;

    private BrokerCluster(IZooKeeperServerProcess keeper) => Keeper = keeper;

    /// <summary>Where the brokers keep their metadata: Keeper, or Apache ZooKeeper when asked for.</summary>
    public IZooKeeperServerProcess Keeper { get; }
    /// <summary>Broker id → its process.</summary>
    public SortedDictionary<int, BrokerProcess> Brokers { get; } = [];

    /// <param name="perBroker">Properties for one broker (by id), on top of <paramref name="extra"/>.</param>
    /// <param name="apacheZooKeeper">Keep the metadata in Apache ZooKeeper 3.8 instead of Keeper.</param>
    /// <param name="kafkaPort">The port of a broker's first listener (by id), for per-broker listeners= settings; free ports by default.</param>
    public static async Task<BrokerCluster> StartAsync(int brokers, IReadOnlyDictionary<string, string>? extra = null,
        Func<int, IReadOnlyDictionary<string, string>>? perBroker = null, bool apacheZooKeeper = false, Func<int, int>? kafkaPort = null)
    {
        var cluster = new BrokerCluster(apacheZooKeeper
            ? await ApacheZooKeeperServer.StartAsync(tickTime: 500)
            : await KeeperProcess.StartAsync(tickTime: 500));
        try
        {
            for (int id = 1; id <= brokers; id++)
            {
                var config = new Dictionary<string, string>
                {
                    ["broker.rack"] = $"rack-{id}",
                    ["zookeeper.session.timeout.ms"] = $"{SessionTimeoutMs}",
                    ["offsets.topic.num.partitions"] = "6",
                };
                foreach (var (k, v) in extra ?? new Dictionary<string, string>()) config[k] = v;
                foreach (var (k, v) in perBroker?.Invoke(id) ?? new Dictionary<string, string>()) config[k] = v;
                cluster.Brokers[id] = await BrokerProcess.StartWithConfigAsync(cluster.Keeper.ConnectString, config, brokerId: id, kafkaPort: kafkaPort?.Invoke(id));
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every running broker as bootstrap servers.</summary>
    public string BootstrapServers => string.Join(',', Brokers.Values.Where(b => b.IsRunning).Select(b => b.BootstrapServers));

    public string Diagnostics() =>
        string.Join('\n', Brokers.Select(b => $"=== broker {b.Key} ===\n{(b.Value.Output.Length > 6000 ? b.Value.Output[^6000..] : b.Value.Output)}"))
        + "\n" + Keeper.Diagnostics();

    /// <summary>Runs a kazoo script with the Keeper's connect string as its first argument; fails the test if it fails.</summary>
    public async Task<string> KazooAsync(string script, params string[] args)
    {
        var result = await ToolRunner.RunKazooAsync(script, [Keeper.ConnectString, .. args]);
        Assert.True(result.Succeeded, $"{result}\n{Diagnostics()}");
        return result.StdOut.Trim();
    }

    /// <summary>A partition's state znode (leader, leader epoch, ISR), read with kazoo.</summary>
    public async Task<(int Leader, int LeaderEpoch, int[] Isr)> PartitionStateAsync(string topic, int partition)
    {
        string output = await KazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            s = json.loads(zk.get('/brokers/topics/%s/partitions/%s/state' % (sys.argv[2], sys.argv[3]))[0])
            print(s['leader'], s['leader_epoch'], ','.join(map(str, s['isr'])))
            zk.stop()
            """, topic, $"{partition}");
        var parts = output.Split(' ');
        return (int.Parse(parts[0]), int.Parse(parts[1]), parts.Length > 2 && parts[2].Length > 0 ? [.. parts[2].Split(',').Select(int.Parse)] : []);
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) until the partition's state znode satisfies <paramref name="done"/>; returns it.</summary>
    public async Task<(int Leader, int LeaderEpoch, int[] Isr)> WaitForPartitionStateAsync(string topic, int partition,
        Func<(int Leader, int LeaderEpoch, int[] Isr), bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var state = await PartitionStateAsync(topic, partition);
            if (done(state)) return state;
            Assert.True(DateTime.UtcNow < deadline,
                $"within {timeout} the state of {topic}-{partition} never showed {what}; it is leader {state.Leader} epoch {state.LeaderEpoch} ISR [{string.Join(",", state.Isr)}]\n{Diagnostics()}");
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Starts watching, with kazoo, a partition's state znode and broker <paramref name="brokerId"/>'s registration; once
    /// the watches are set it returns a task that completes when the registration is gone, with what was seen in the
    /// order Keeper delivered it: "state &lt;leader&gt; &lt;unix ms&gt;" per state change, then "gone &lt;unix ms&gt;".
    /// </summary>
    public async Task<Task<List<string>>> WatchUntilBrokerGoneAsync(string topic, int partition, int brokerId)
    {
        string ready = Path.Combine(Path.GetTempPath(), $"quill-watch-{Guid.NewGuid():N}");
        var watching = ToolRunner.RunKazooAsync("""
            import sys, json, threading, time
            from kazoo.client import KazooClient
            hosts, path, broker, ready = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
            zk = KazooClient(hosts=hosts); zk.start(timeout=30)
            gone = threading.Event()
            first = [True]
            def on_state(data, stat, event):
                if first[0]:
                    first[0] = False
                    return
                print('state', json.loads(data)['leader'] if data else -1, int(time.time() * 1000), flush=True)
            zk.DataWatch(path, on_state)
            def on_broker(event):
                print('gone', int(time.time() * 1000), flush=True)
                gone.set()
            if zk.exists('/brokers/ids/' + broker, watch=on_broker) is None:
                print('gone', int(time.time() * 1000), flush=True)
                gone.set()
            open(ready, 'w').close()
            gone.wait(55)
            zk.stop()
            """, Keeper.ConnectString, $"/brokers/topics/{topic}/partitions/{partition}/state", $"{brokerId}", ready);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!File.Exists(ready))
        {
            if (watching.IsCompleted) Assert.Fail($"the kazoo watch ended before it was ready: {await watching}");
            Assert.True(DateTime.UtcNow < deadline, "the kazoo watch never got ready");
            await Task.Delay(100);
        }
        File.Delete(ready);
        return Finish();

        async Task<List<string>> Finish()
        {
            var result = await watching;
            Assert.True(result.Succeeded, $"{result}\n{Diagnostics()}");
            return [.. result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }
    }

    /// <summary>SIGSTOP (pause) or SIGCONT (resume) a broker's process, by its PID.</summary>
    public static void Signal(BrokerProcess broker, bool pause)
    {
        int pid = broker.ProcessId ?? throw new InvalidOperationException("the broker is not running");
        Assert.Equal(0, SendSignal(pid, pause ? 19 : 18));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>
    /// The values of the records in a broker's own copy of a partition, read from its segment files (whole batches in
    /// offset order), with their offsets: what that replica holds, leader or follower.
    /// </summary>
    public static List<(long Offset, string Value)> ReplicaRecords(BrokerProcess broker, string topic, int partition)
    {
        var records = new List<(long, string)>();
        string dir = Path.Combine(broker.Directory, "kafka-logs", $"{topic}-{partition}");
        if (!Directory.Exists(dir)) return records;
        foreach (string file in Directory.GetFiles(dir, "*.log").Order())
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            int position = 0;
            while (position + 61 <= bytes.Length)
            {
                int size = 12 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(position + 8));
                if (position + size > bytes.Length) break; // being written
                var batch = Quill.Kafka.Protocol.Records.RecordBatch.Read(bytes.AsMemory(position, size));
                if (!batch.IsControl)
                    foreach (var record in batch.ReadRecords())
                        records.Add((record.Offset, record.Value is { } v ? System.Text.Encoding.UTF8.GetString(v.Span) : ""));
                position += size;
            }
        }
        return records;
    }

    /// <summary>/controller's broker id and /controller_epoch, read with kazoo.</summary>
    public async Task<(int Controller, int Epoch)> ControllerInKeeperAsync()
    {
        string output = await KazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            controller = json.loads(zk.get('/controller')[0])['brokerid']
            epoch = int(zk.get('/controller_epoch')[0])
            print(controller, epoch)
            zk.stop()
            """);
        var parts = output.Split(' ');
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    /// <summary>
    /// What one broker itself says of the cluster (DescribeCluster on a connection to it: a client library would ask
    /// whichever broker it likes): the brokers with their racks, and the controller.
    /// </summary>
    public static async Task<(List<(int Id, int Port, string? Rack)> Nodes, int Controller)> DescribeAsync(BrokerProcess broker)
    {
        using var connection = await RawKafkaConnection.ConnectAsync(broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.DescribeCluster, 0, KafkaApis.DescribeCluster.Request.New());
        var nodes = response.GetArray("Brokers")!.Select(b => (b.GetInt32("BrokerId"), b.GetInt32("Port"), b.GetString("Rack"))).OrderBy(n => n.Item1);
        return ([.. nodes], response.GetInt32("ControllerId"));
    }

    /// <summary>
    /// Waits (up to <paramref name="timeout"/>) until every running broker describes the cluster so that
    /// <paramref name="done"/> holds; returns the last descriptions, by broker id.
    /// </summary>
    public async Task<Dictionary<int, (List<(int Id, int Port, string? Rack)> Nodes, int Controller)>> WaitUntilEveryBrokerSaysAsync(
        Func<(List<(int Id, int Port, string? Rack)> Nodes, int Controller), bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var seen = new Dictionary<int, (List<(int, int, string?)>, int)>();
            foreach (var (id, broker) in Brokers.Where(b => b.Value.IsRunning))
            {
                try
                {
                    seen[id] = await DescribeAsync(broker);
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException)
                {
                    // Not answering yet (a broker that is starting); asked again below.
                }
            }
            if (seen.Count == Brokers.Count(b => b.Value.IsRunning) && seen.Values.All(done)) return seen;
            Assert.True(DateTime.UtcNow < deadline,
                $"within {timeout} the brokers never all said: {what}; they said {string.Join("; ", seen.Select(s => $"{s.Key}: nodes [{string.Join(",", s.Value.Item1.Select(n => n.Item1))}] controller {s.Value.Item2}"))}\n{Diagnostics()}");
            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var broker in Brokers.Values) await broker.DisposeAsync();
        await Keeper.DisposeAsync();
    }
}
