using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Xunit.Abstractions;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Controlled shutdown across three `quill broker start` processes (<see cref="BrokerCluster"/>): a broker stopped with
/// SIGTERM first has the controller move its leaderships to other ISR members (ControlledShutdown), so the move is in
/// Keeper before its registration goes, an idempotent acks=all producer loses and duplicates nothing, and the broker
/// exits 0 and rejoins the ISR when started again.
/// </summary>
public sealed class ControlledShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly Dictionary<string, string> Config = new() { ["replica.lag.time.max.ms"] = "3000" };

    private static async Task<BrokerCluster> StartClusterAsync()
    {
        var cluster = await BrokerCluster.StartAsync(3, Config);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        return cluster;
    }

    private static async Task<string> CreateTopicAsync(BrokerCluster cluster, string prefix, int partitions = 1)
    {
        string topic = Clients.NewTopic(prefix);
        using var admin = Clients.Admin(cluster.BootstrapServers);
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = partitions, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
        }]);
        for (int p = 0; p < partitions; p++)
            await cluster.WaitForPartitionStateAsync(topic, p, s => s.Leader > 0 && s.Isr.Length == 3, Deadline, "a leader and all three in sync");
        return topic;
    }

    [Fact]
    public async Task a_leader_stopped_with_sigterm_hands_leadership_to_the_isr_before_it_leaves_and_the_producer_loses_nothing()
    {
        await using var cluster = await StartClusterAsync();
        string topic = await CreateTopicAsync(cluster, "sigterm");
        var before = await cluster.PartitionStateAsync(topic, 0);

        var acknowledged = new ConcurrentDictionary<int, long>();
        var failed = new ConcurrentBag<string>();
        using var producer = Clients.Producer(cluster.BootstrapServers, c =>
        {
            c.Acks = Acks.All;
            c.EnableIdempotence = true;
            c.MessageTimeoutMs = 120_000;
            c.LingerMs = 2;
        });
        int next = 0;
        void ProduceUntil(int count)
        {
            var until = DateTime.UtcNow + Deadline;
            while (acknowledged.Count < count)
            {
                Assert.True(DateTime.UtcNow < until, $"{acknowledged.Count} of {count} acknowledged; failures: {string.Join("; ", failed.Take(5))}\n{cluster.Diagnostics()}");
                int i = Interlocked.Increment(ref next) - 1;
                producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"{i}" }, report =>
                {
                    if (report.Error.IsError) failed.Add($"{i}: {report.Error}");
                    else acknowledged[i] = report.Offset.Value;
                });
                Thread.Sleep(2);
            }
        }

        await Task.Run(() => ProduceUntil(200));
        var watch = await cluster.WatchUntilBrokerGoneAsync(topic, 0, before.Leader);
        var stopping = cluster.Brokers[before.Leader];
        // The producer keeps writing while the leader stops.
        using var producing = new CancellationTokenSource();
        var background = Task.Run(() =>
        {
            while (!producing.IsCancellationRequested) ProduceUntil(acknowledged.Count + 1);
        });
        long sigterm = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        int? exitCode = await stopping.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"the broker exited with {exitCode?.ToString() ?? "nothing (still running)"}\n{stopping.Output}");
        var seen = await watch;
        output.WriteLine($"seen in Keeper (SIGTERM at {sigterm}): {string.Join("; ", seen)}");

        // In Keeper's order: a state naming another leader, then the registration gone.
        int moved = seen.FindIndex(e => e.StartsWith("state ", StringComparison.Ordinal) && e.Split(' ')[1] != $"{before.Leader}" && e.Split(' ')[1] != "-1");
        int gone = seen.FindIndex(e => e.StartsWith("gone", StringComparison.Ordinal));
        Assert.True(moved >= 0 && gone > moved, $"leadership did not move before broker {before.Leader}'s registration went: {string.Join("; ", seen)}\n{stopping.Output}");
        var after = await cluster.PartitionStateAsync(topic, 0);
        Assert.NotEqual(before.Leader, after.Leader);
        Assert.Contains(after.Leader, before.Isr);
        Assert.True(after.LeaderEpoch > before.LeaderEpoch);
        Assert.DoesNotContain(before.Leader, after.Isr);
        Assert.Contains("Controlled shutdown succeeded", stopping.Output);

        // One producing thread at a time, so the order produced is the order of the values.
        producing.Cancel();
        await background;
        await Task.Run(() => ProduceUntil(acknowledged.Count + 200));
        producer.Flush(TimeSpan.FromSeconds(60));
        Assert.Empty(failed);

        // Every acknowledged record exactly once, in the order produced, at the offset it was acknowledged with.
        var live = string.Join(',', cluster.Brokers.Where(b => b.Value.IsRunning).Select(b => b.Value.BootstrapServers));
        var consumed = Clients.ConsumeFromStart(live, topic, 1, acknowledged.Count);
        var read = consumed.Select(r => int.Parse(r.Message.Value)).ToList();
        Assert.Equal(read.Count, read.Distinct().Count());
        Assert.Equal(read.Order(), read);
        Assert.All(acknowledged, a => Assert.Equal(a.Value, consumed.Single(r => r.Message.Value == $"{a.Key}").Offset.Value));

        // Started again, it follows the new leader, catches up and rejoins the ISR.
        await stopping.StartAgainAsync();
        var rejoined = await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Isr.Length == 3, Deadline, "the restarted broker back in the ISR");
        Assert.Equal(after.Leader, rejoined.Leader);
    }

    [Fact]
    public async Task the_controller_stopped_with_sigterm_moves_its_own_leaderships_and_exits_zero()
    {
        await using var cluster = await StartClusterAsync();
        string topic = await CreateTopicAsync(cluster, "ctl-stop", partitions: 3);
        var (controller, _) = await cluster.ControllerInKeeperAsync();
        var led = new List<int>();
        for (int p = 0; p < 3; p++)
            if ((await cluster.PartitionStateAsync(topic, p)).Leader == controller) led.Add(p);
        Assert.NotEmpty(led); // three partitions placed round robin over three brokers: one is the controller's

        // Refusals, which move nothing: a request to another broker, one for a broker that is not registered, and one
        // with a broker epoch older than the broker's registration.
        async Task<short> AskAsync(BrokerProcess to, int brokerId, long brokerEpoch)
        {
            using var raw = await RawKafkaConnection.ConnectAsync(to.KafkaPort);
            var response = await raw.RequestAsync(KafkaApis.ControlledShutdown, 3,
                KafkaApis.ControlledShutdown.Request.New().SetInt("BrokerId", brokerId).SetInt("BrokerEpoch", brokerEpoch));
            Assert.Empty(response.GetArray("RemainingPartitions")!);
            return response.GetInt16("ErrorCode");
        }
        int other = cluster.Brokers.Keys.First(id => id != controller);
        Assert.Equal((short)KafkaError.NotController, await AskAsync(cluster.Brokers[other], other, -1));
        Assert.Equal((short)KafkaError.BrokerNotAvailable, await AskAsync(cluster.Brokers[controller], 42, -1));
        Assert.Equal((short)KafkaError.StaleBrokerEpoch, await AskAsync(cluster.Brokers[controller], other, 0));
        for (int p = 0; p < 3; p++)
            Assert.Equal(3, (await cluster.PartitionStateAsync(topic, p)).Isr.Length);

        var stopping = cluster.Brokers[controller];
        int? exitCode = await stopping.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.True(exitCode == 0, $"the controller exited with {exitCode?.ToString() ?? "nothing (still running)"}\n{stopping.Output}");
        Assert.Contains("Controlled shutdown succeeded", stopping.Output);

        for (int p = 0; p < 3; p++)
        {
            var state = await cluster.WaitForPartitionStateAsync(topic, p, s => s.Leader > 0 && s.Leader != controller, Deadline, "a leader other than the stopped controller");
            Assert.DoesNotContain(controller, state.Isr);
        }
        // Another broker is the controller now, and the cluster serves the topic.
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 2 && c.Controller > 0 && c.Controller != controller, Deadline, "a new controller");
        using var producer = Clients.Producer(cluster.BootstrapServers, c => c.Acks = Acks.All);
        for (int p = 0; p < 3; p++)
        {
            var result = await producer.ProduceAsync(new TopicPartition(topic, p), new Message<string, string> { Key = "k", Value = $"p{p}" });
            Assert.Equal(PersistenceStatus.Persisted, result.Status);
        }
    }
}
