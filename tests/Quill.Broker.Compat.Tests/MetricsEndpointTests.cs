using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// `quill start --metrics-port P`: the Prometheus endpoint, read while librdkafka (Confluent.Kafka) produces and
/// consumes, shows Kafka's metric names with numbers that follow the traffic.
/// </summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly int _metricsPort = FreePort.Get();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync(extraArguments: ["--metrics-port", $"{_metricsPort}"]);

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _broker.DisposeAsync();
    }

    private string Url(string path) => $"http://127.0.0.1:{_metricsPort}{path}";

    /// <summary>The value of one series (the metric name with its labels, e.g. <c>x{topic="t"}</c>); 0 when absent.</summary>
    private static double Value(string text, string series)
    {
        var match = Regex.Match(text, $@"(?m)^{Regex.Escape(series)} (\S+)$");
        return match.Success ? double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Scrapes until <paramref name="done"/> holds for the text; fails with the last scrape after the deadline.</summary>
    private async Task<string> ScrapeUntilAsync(Func<string, bool> done)
    {
        var until = DateTime.UtcNow + Deadline;
        string text;
        while (!done(text = await _http.GetStringAsync(Url("/metrics"))))
        {
            if (DateTime.UtcNow > until) Assert.Fail($"the metrics never matched; last scrape:\n{text}\n{_broker.Diagnostics()}");
            await Task.Delay(100);
        }
        return text;
    }

    [Fact]
    public async Task Request_counts_and_topic_bytes_grow_as_a_real_client_produces_and_fetches()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(Url("/health"))).StatusCode);
        string topic = Clients.NewTopic("metrics");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        const string produce = "kafka_network_requestmetrics_requests_total{request=\"Produce\"}";
        double producesBefore = Value(await _http.GetStringAsync(Url("/metrics")), produce);

        using (var producer = Clients.Producer(_broker.BootstrapServers))
        {
            for (int i = 0; i < 50; i++) producer.Produce(topic, new Message<string, string> { Key = "k", Value = new string('v', 100) });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }
        string bytesIn = $"kafka_server_brokertopicmetrics_bytesin_total{{topic=\"{topic}\"}}";
        string messagesIn = $"kafka_server_brokertopicmetrics_messagesin_total{{topic=\"{topic}\"}}";
        var text = await ScrapeUntilAsync(t => Value(t, produce) > producesBefore && Value(t, messagesIn) >= 50);
        Assert.Equal(50, Value(text, messagesIn));
        Assert.True(Value(text, bytesIn) > 50 * 100, $"bytes in: {Value(text, bytesIn)}");
        Assert.Matches(@"(?m)^kafka_network_requestmetrics_totaltimems_count\{request=""Produce""\} [1-9]", text);
        Assert.Contains("# TYPE kafka_network_requestmetrics_requests_total counter", text);
        Assert.True(Value(text, "kafka_network_requestmetrics_requests_total{request=\"Metadata\"}") > 0);

        Clients.ConsumeFromStart(_broker.BootstrapServers, topic, 1, 50);
        string bytesOut = $"kafka_server_brokertopicmetrics_bytesout_total{{topic=\"{topic}\"}}";
        text = await ScrapeUntilAsync(t => Value(t, bytesOut) >= Value(t, bytesIn));
        Assert.True(Value(text, "kafka_network_requestmetrics_requests_total{request=\"Fetch\"}") > 0);

        // One broker with an embedded Keeper: it is the controller, leads every partition, and none is offline.
        Assert.Matches(@"(?m)^kafka_controller_kafkacontroller_activecontrollercount(\{\})? 1$", text);
        Assert.Matches(@"(?m)^kafka_controller_kafkacontroller_offlinepartitionscount(\{\})? 0$", text);
        Assert.Matches(@"(?m)^kafka_server_replicamanager_underreplicatedpartitions(\{\})? 0$", text);
        Assert.Matches(@"(?m)^kafka_server_replicamanager_partitioncount(\{\})? [1-9]", text);
        Assert.Matches(@"(?m)^kafka_server_delayedoperationpurgatory_purgatorysize\{delayedOperation=""Fetch""\} \d+$", text);
    }

    [Fact]
    public async Task A_long_poll_fetch_shows_in_the_fetch_purgatory_until_it_is_answered()
    {
        string topic = Clients.NewTopic("purgatory");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        const string waiting = "kafka_server_delayedoperationpurgatory_purgatorysize{delayedOperation=\"Fetch\"}";
        using var consumer = Clients.Consumer(_broker.BootstrapServers, c => c.FetchWaitMaxMs = 5000);
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        using var stop = new CancellationTokenSource();
        var polling = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested) consumer.Consume(TimeSpan.FromMilliseconds(200));
        });
        await ScrapeUntilAsync(t => Value(t, waiting) >= 1);
        await stop.CancelAsync();
        await polling;
    }

    [Fact]
    public async Task Unknown_paths_and_bad_requests_are_answered_and_the_port_keeps_serving()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(Url("/nothing-here"))).StatusCode);
        using (var tcp = new TcpClient("127.0.0.1", _metricsPort))
        {
            var stream = tcp.GetStream();
            await stream.WriteAsync("\0\0\0\u0010not http at all\r\n\r\n"u8.ToArray());
            using var reader = new StreamReader(stream);
            Assert.StartsWith("HTTP/1.1 400", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync(Url("/health"))).StatusCode);
        Assert.Contains("kafka_server_replicamanager_partitioncount", await _http.GetStringAsync(Url("/metrics")));
    }
}
