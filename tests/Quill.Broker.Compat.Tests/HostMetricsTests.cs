using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker;
using Quill.Hosting;
using Quill.Keeper;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The metrics port as a listener of the process's one host: `quill start --metrics-port P` serves both servers on
/// one port; `quill keeper start` (metricsProvider.httpPort) and `quill broker start` (metrics.http.port) each serve
/// their own.
/// </summary>
public sealed class HostMetricsTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose() => _http.Dispose();

    /// <summary>The value of one series (name and labels; an empty label set may be written "{}"); 0 when absent.</summary>
    private static double Value(string text, string name)
    {
        var match = Regex.Match(text, $@"(?m)^{Regex.Escape(name)}(\{{\}})? (\S+)$");
        return match.Success ? double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
    }

    private async Task<string> ScrapeUntilAsync(int port, Func<string, bool> done, Func<string> diagnostics)
    {
        var until = DateTime.UtcNow + Deadline;
        string text;
        while (!done(text = await _http.GetStringAsync($"http://127.0.0.1:{port}/metrics")))
        {
            if (DateTime.UtcNow > until) Assert.Fail($"the metrics never matched; last scrape:\n{text}\n{diagnostics()}");
            await Task.Delay(100);
        }
        return text;
    }

    private async Task<HttpStatusCode> HealthAsync(int port) => (await _http.GetAsync($"http://127.0.0.1:{port}/health")).StatusCode;

    [Fact]
    public async Task quill_start_serves_both_servers_counters_on_one_metrics_port_and_they_grow_with_real_clients()
    {
        int metricsPort = FreePort.Get();
        await using var quill = await BrokerProcess.StartAsync(extraArguments: ["--metrics-port", $"{metricsPort}"]);
        Assert.Equal(HttpStatusCode.OK, await HealthAsync(metricsPort));
        const string produces = "kafka_network_requestmetrics_requests_total{request=\"Produce\"}";
        var before = await _http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
        // The broker's own Keeper session has made its paths already: Keeper's numbers are there from the start.
        Assert.True(Value(before, "znode_count") > 4, before);

        string topic = Clients.NewTopic("host-metrics");
        await Clients.CreateTopicAsync(quill.BootstrapServers, topic, 1);
        using (var producer = Clients.Producer(quill.BootstrapServers))
        {
            for (int i = 0; i < 20; i++) producer.Produce(topic, new Message<string, string> { Key = "k", Value = "v" });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }
        var kazoo = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            for i in range(20): zk.create('/host-metrics/n', b'x', sequence=True, makepath=True)
            zk.stop()
            """, quill.KeeperConnect);
        Assert.True(kazoo.ExitCode == 0, kazoo.ToString());

        string messagesIn = $"kafka_server_brokertopicmetrics_messagesin_total{{topic=\"{topic}\"}}";
        var after = await ScrapeUntilAsync(metricsPort,
            t => Value(t, messagesIn) >= 20 && Value(t, "znode_count") >= Value(before, "znode_count") + 21, quill.Diagnostics);
        Assert.Equal(20, Value(after, messagesIn));
        Assert.True(Value(after, produces) > Value(before, produces), after);
        Assert.True(Value(after, "packets_received") >= Value(before, "packets_received") + 21, after);
        // Each name once: the two servers' series sit side by side, neither shadows the other.
        Assert.Single(Regex.Matches(after, @"(?m)^# TYPE znode_count "));
        Assert.Single(Regex.Matches(after, @"(?m)^# TYPE kafka_server_replicamanager_partitioncount "));
    }

    [Fact]
    public async Task health_is_200_only_while_both_servers_of_the_host_serve()
    {
        string dir = Path.Combine(Path.GetTempPath(), "quill-host-" + Guid.NewGuid().ToString("N")[..12]);
        int metricsPort = FreePort.Get();
        var loggers = NullLoggerFactory.Instance;
        var keeper = new KeeperService(new KeeperOptions { DataDir = Path.Combine(dir, "keeper"), ClientPort = 0, ClientPortAddress = "127.0.0.1" },
            loggers, where: "", metricsByHost: true);
        var broker = new BrokerService(() => new BrokerOptions
        {
            BrokerId = 0,
            ListenHost = "127.0.0.1",
            Port = 0,
            LogDirs = [Path.Combine(dir, "kafka-logs")],
            ZooKeeperConnect = $"127.0.0.1:{keeper.Server.Endpoint.Port}",
            OffsetsTopicReplicationFactor = 1,
            TransactionStateLogReplicationFactor = 1,
        }, loggers, banner: null, metricsByHost: true);
        var metrics = new MetricsService("127.0.0.1", metricsPort, [keeper, broker], loggers);
        try
        {
            // The host's order: the HTTP port first, then Keeper, then the broker; stopped in reverse.
            await metrics.StartAsync(CancellationToken.None);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthAsync(metricsPort));
            await keeper.StartAsync(CancellationToken.None);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthAsync(metricsPort));
            Assert.Matches(@"(?m)^znode_count", await _http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics"));
            await broker.StartAsync(CancellationToken.None);
            Assert.Equal(HttpStatusCode.OK, await HealthAsync(metricsPort));

            await broker.StopAsync(CancellationToken.None);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthAsync(metricsPort));
            await keeper.StopAsync(CancellationToken.None);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await HealthAsync(metricsPort));
            // Both servers have stopped: a scrape is still answered, never a 500.
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"http://127.0.0.1:{metricsPort}/metrics")).StatusCode);
        }
        finally
        {
            await broker.DisposeAsync();
            await keeper.DisposeAsync();
            await metrics.DisposeAsync();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task keeper_start_and_broker_start_each_serve_their_own_metrics_port()
    {
        int keeperMetrics = FreePort.Get(), brokerMetrics = FreePort.Get();
        await using var keeper = await KeeperProcess.StartAsync(extraConfig: new Dictionary<string, string>
        {
            ["metricsProvider.httpPort"] = $"{keeperMetrics}",
        });
        await using var broker = await BrokerProcess.StartWithConfigAsync(keeper.ConnectString, new Dictionary<string, string>
        {
            ["metrics.http.port"] = $"{brokerMetrics}",
        });
        Assert.Equal(HttpStatusCode.OK, await HealthAsync(keeperMetrics));
        Assert.Equal(HttpStatusCode.OK, await HealthAsync(brokerMetrics));

        var keeperText = await ScrapeUntilAsync(keeperMetrics, t => Value(t, "znode_count") > 4, broker.Diagnostics);
        Assert.DoesNotContain("kafka_", keeperText);
        var brokerText = await _http.GetStringAsync($"http://127.0.0.1:{brokerMetrics}/metrics");
        Assert.Matches(@"(?m)^kafka_controller_kafkacontroller_activecontrollercount(\{\})? 1$", brokerText);
        Assert.DoesNotContain("znode_count", brokerText);
    }
}
