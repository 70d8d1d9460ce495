using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The Prometheus endpoint of each broker of a real three-broker cluster (every broker with its own metrics.http.port),
/// read while Confluent.Kafka produces and while a follower is killed: Kafka's cluster metrics under the names the JMX
/// exporter gives them. replica.lag.time.max.ms is 3 s here, so a dead follower leaves the ISR within seconds.
/// </summary>
public sealed class ClusterMetricsTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly Dictionary<int, int> _metricsPorts = Enumerable.Range(1, 3).ToDictionary(id => id, _ => FreePort.Get());
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private BrokerCluster _cluster = null!;

    private async Task StartClusterAsync()
    {
        _cluster = await BrokerCluster.StartAsync(3, new Dictionary<string, string> { ["replica.lag.time.max.ms"] = "3000" },
            id => new Dictionary<string, string> { ["metrics.http.port"] = $"{_metricsPorts[id]}" });
        await _cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    private async Task<string> ScrapeAsync(int broker) => await _http.GetStringAsync($"http://127.0.0.1:{_metricsPorts[broker]}/metrics");

    /// <summary>The value of one series: a name with its labels (<c>x{topic="t"}</c>), or a bare name for the unlabelled one; 0 when absent.</summary>
    private static double Value(string text, string series)
    {
        string pattern = series.Contains('{') ? Regex.Escape(series) : Regex.Escape(series) + @"(\{\})?";
        var match = Regex.Match(text, $@"(?m)^{pattern} (\S+)$");
        return match.Success ? double.Parse(match.Groups[^1].Value, CultureInfo.InvariantCulture) : 0;
    }

    /// <summary>Scrapes one broker until <paramref name="done"/> holds; fails with the last scrape after the deadline.</summary>
    private async Task<string> ScrapeUntilAsync(int broker, Func<string, bool> done, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        string text;
        while (!done(text = await ScrapeAsync(broker)))
        {
            if (DateTime.UtcNow > until) Assert.Fail($"broker {broker}'s metrics never showed {what}; last scrape:\n{text}\n{_cluster.Diagnostics()}");
            await Task.Delay(200);
        }
        return text;
    }

    private async Task<string> CreateReplicatedTopicAsync()
    {
        string topic = Clients.NewTopic("cluster-metrics");
        using var admin = Clients.Admin(_cluster.BootstrapServers);
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
        }]);
        await _cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader > 0 && s.Isr.Length == 3, Deadline, "a leader and all three in sync");
        return topic;
    }

    private async Task ProduceAsync(string topic, int count)
    {
        using var producer = Clients.Producer(_cluster.BootstrapServers, c => c.Acks = Acks.All);
        for (int i = 0; i < count; i++)
        {
            var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = new string('v', 200) });
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }
    }

    [Fact]
    public async Task exactly_one_broker_is_the_active_controller_and_topic_bytes_grow_on_the_leader_and_its_followers()
    {
        await StartClusterAsync();
        var (controller, _) = await _cluster.ControllerInKeeperAsync();
        foreach (int id in _metricsPorts.Keys)
        {
            // Each broker learns who the controller is through its watch on /controller: wait until all have.
            await ScrapeUntilAsync(id, t => Value(t, "kafka_controller_kafkacontroller_activecontrollercount") == (id == controller ? 1 : 0),
                $"activecontrollercount {(id == controller ? 1 : 0)} (the controller in Keeper is broker {controller})");
        }
        var counts = new Dictionary<int, double>();
        foreach (int id in _metricsPorts.Keys) counts[id] = Value(await ScrapeAsync(id), "kafka_controller_kafkacontroller_activecontrollercount");
        Assert.Equal(1, counts.Values.Count(c => c == 1));
        Assert.Equal(2, counts.Values.Count(c => c == 0));
        Assert.Equal(3, Value(await ScrapeAsync(controller), "kafka_controller_kafkacontroller_activebrokercount"));

        string topic = await CreateReplicatedTopicAsync();
        int leader = (await _cluster.PartitionStateAsync(topic, 0)).Leader;
        string bytesIn = $"kafka_server_brokertopicmetrics_bytesin_total{{topic=\"{topic}\"}}";
        Assert.Equal(0, Value(await ScrapeAsync(leader), bytesIn));
        await ProduceAsync(topic, 20);

        var text = await ScrapeUntilAsync(leader, t => Value(t, bytesIn) > 20 * 200, $"more than {20 * 200} bytes in for {topic}");
        Assert.Equal(20, Value(text, $"kafka_server_brokertopicmetrics_messagesin_total{{topic=\"{topic}\"}}"));
        Assert.True(Value(text, "kafka_server_brokertopicmetrics_bytesin_total") >= Value(text, bytesIn), "the all-topics bytes in covers the topic's");
        Assert.True(Value(text, "kafka_server_brokertopicmetrics_replicationbytesout_total") >= Value(text, bytesIn),
            "the leader sent at least the topic's bytes to its followers");
        Assert.True(Value(text, "kafka_network_requestmetrics_requests_total{request=\"Produce\"}") >= 20);
        Assert.True(Value(text, "kafka_server_replicamanager_leadercount") >= 1);
        Assert.Equal(0, Value(text, "kafka_server_replicamanager_underreplicatedpartitions"));
        foreach (int follower in _metricsPorts.Keys.Where(id => id != leader))
        {
            // Followers copied the bytes (replication in) but no producer wrote to them.
            var followerText = await ScrapeUntilAsync(follower, t => Value(t, "kafka_server_brokertopicmetrics_replicationbytesin_total") >= Value(text, bytesIn),
                $"the leader's {Value(text, bytesIn)} bytes as replication bytes in");
            Assert.Equal(0, Value(followerText, bytesIn));
            Assert.True(Value(followerText, "kafka_server_replicamanager_partitioncount") >= 1, "the follower counts the replica it holds");
        }
    }

    [Fact]
    public async Task killing_a_follower_shows_on_the_leader_as_an_under_replicated_partition_and_an_isr_shrink_until_it_returns()
    {
        await StartClusterAsync();
        string topic = await CreateReplicatedTopicAsync();
        await ProduceAsync(topic, 5);
        int leader = (await _cluster.PartitionStateAsync(topic, 0)).Leader;
        var (controller, _) = await _cluster.ControllerInKeeperAsync();
        // The victim is neither the leader nor the controller, so both keep reporting.
        int victim = _metricsPorts.Keys.First(id => id != leader && id != controller);
        const string underReplicated = "kafka_server_replicamanager_underreplicatedpartitions";
        const string shrinks = "kafka_server_replicamanager_isrshrinks_total";
        const string expands = "kafka_server_replicamanager_isrexpands_total";
        const string elections = "kafka_controller_controllerstats_leaderelectionrateandtimems_count";
        var before = await ScrapeAsync(leader);
        Assert.Equal(0, Value(before, underReplicated));
        double electionsBefore = Value(await ScrapeAsync(controller), elections);

        _cluster.Brokers[victim].Kill();
        // ISR 2 of min.insync.replicas 2 is at the minimum.
        await ScrapeUntilAsync(leader, t => Value(t, underReplicated) >= 1 && Value(t, shrinks) > Value(before, shrinks)
                                            && Value(t, "kafka_server_replicamanager_atminisrpartitioncount") >= 1,
            $"an under-replicated partition at min.insync.replicas and an ISR shrink after broker {victim} was killed");
        Assert.DoesNotContain(victim, (await _cluster.PartitionStateAsync(topic, 0)).Isr);
        // The controller handled the broker leaving (Kafka times that as LeaderElectionRateAndTimeMs); nothing is offline.
        var controllerText = await ScrapeUntilAsync(controller,
            t => Value(t, elections) > electionsBefore && Value(t, "kafka_controller_kafkacontroller_activebrokercount") == 2,
            $"a broker change handled after broker {victim} left, and two live brokers");
        Assert.Equal(0, Value(controllerText, "kafka_controller_kafkacontroller_offlinepartitionscount"));

        await _cluster.Brokers[victim].StartAgainAsync();
        await ScrapeUntilAsync(leader, t => Value(t, underReplicated) == 0 && Value(t, expands) > Value(before, expands),
            $"broker {victim} back in the ISR (an ISR expansion, nothing under-replicated)");
    }
}
