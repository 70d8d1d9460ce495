using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Commands;

namespace Quill.Perf.Kafka;

/// <summary>
/// The cluster `quill perf cluster` measures: one Keeper (as `quill start --brokers` starts it) and N
/// `quill broker start` processes on 127.0.0.1 under one folder, held here as processes so that one can be killed
/// with SIGKILL. Disposing stops the rest cleanly (brokers first, then Keeper).
/// </summary>
public sealed class PerfCluster : IDisposable
{
    private readonly LocalProcesses _keeper = new();
    private readonly Dictionary<int, Process> _brokers = [];
    private readonly Dictionary<int, string> _configs = [];

    private PerfCluster(string root, int sessionTimeoutMs)
    {
        Root = root;
        SessionTimeoutMs = sessionTimeoutMs;
    }

    public string Root { get; }
    public int SessionTimeoutMs { get; }
    /// <summary>Broker id → Kafka port.</summary>
    public Dictionary<int, int> Ports { get; } = [];
    public string BootstrapServers => string.Join(",", Ports.Values.Select(p => Inv($"127.0.0.1:{p}")));

    public static async Task<PerfCluster> StartAsync(string root, int brokers, int sessionTimeoutMs, CancellationToken ct)
    {
        var cluster = new PerfCluster(root, sessionTimeoutMs);
        try
        {
            int keeperPort = FreePort();
            string connect = LocalEnsemble.Start(cluster._keeper, 1, Path.Combine(root, "keeper"), keeperPort);
            await WaitForPortAsync(keeperPort, TimeSpan.FromSeconds(60), ct);
            for (int id = 1; id <= brokers; id++)
            {
                int port = cluster.Ports[id] = FreePort();
                string dir = Path.Combine(root, Inv($"broker-{id}"));
                Directory.CreateDirectory(dir);
                string config = Path.Combine(dir, "server.properties");
                File.WriteAllText(config, Inv($"""
                    broker.id={id}
                    listeners=PLAINTEXT://127.0.0.1:{port}
                    log.dirs={Path.Combine(dir, "logs")}
                    zookeeper.connect={connect}
                    zookeeper.session.timeout.ms={sessionTimeoutMs}
                    offsets.topic.replication.factor={Math.Min(brokers, 3)}
                    group.initial.rebalance.delay.ms=0

                    """));
                cluster._configs[id] = config;
                cluster._brokers[id] = Launch(Path.Combine(dir, "broker.log"), "broker", "start", "--config", config);
            }
            foreach (int port in cluster.Ports.Values) await WaitForPortAsync(port, TimeSpan.FromSeconds(120), ct);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>SIGKILL to a broker (no clean shutdown: its Keeper session ends only when it times out); returns once it is gone.</summary>
    public void Kill(int brokerId)
    {
        var process = _brokers[brokerId];
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>SIGTERM to a broker: a controlled shutdown (leadership moves first); returns at once, the broker exits by itself.</summary>
    public void Terminate(int brokerId) => kill(_brokers[brokerId].Id, Sigterm);

    /// <summary>Returns once the broker's process has exited (a SIGTERM'd broker moves its leaderships first).</summary>
    public Task WaitForExitAsync(int brokerId, CancellationToken ct) => _brokers[brokerId].WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);

    /// <summary>Starts a stopped broker again on its own config and data, once its old process has exited.</summary>
    public async Task RestartAsync(int brokerId, CancellationToken ct)
    {
        await WaitForExitAsync(brokerId, ct);
        _brokers[brokerId].Dispose();
        string config = _configs[brokerId];
        _brokers[brokerId] = Launch(Path.Combine(Path.GetDirectoryName(config)!, "broker.log"), "broker", "start", "--config", config);
        await WaitForPortAsync(Ports[brokerId], TimeSpan.FromSeconds(120), ct);
    }

    /// <summary>Waits until the cluster's metadata names every broker and a controller.</summary>
    public async Task WaitForBrokersAsync(IAdminClient admin, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var cluster = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
                if (cluster.Nodes.Count == Ports.Count && cluster.Controller is not null) return;
            }
            catch (KafkaException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the {Ports.Count} brokers did not all register within {timeout.TotalSeconds:0} s (see {Root})");
            await Task.Delay(200, ct);
        }
    }

    private static Process Launch(string logPath, params string[] arguments) => Commands.LocalProcesses.Launch(logPath, arguments);

    private static async Task WaitForPortAsync(int port, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port, ct).AsTask().WaitAsync(TimeSpan.FromSeconds(2), ct);
                return;
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"nothing serves 127.0.0.1:{port} after {timeout.TotalSeconds:0} s");
                await Task.Delay(200, ct);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        foreach (var process in _brokers.Values)
            if (!process.HasExited) kill(process.Id, Sigterm);
        foreach (var process in _brokers.Values)
        {
            if (!process.WaitForExit(30_000)) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
        _keeper.Stop();
    }

    private const int Sigterm = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
