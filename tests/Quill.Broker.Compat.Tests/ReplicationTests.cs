using System.Collections.Concurrent;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Replication across three `quill broker start` processes (<see cref="BrokerCluster"/>), driven by Confluent.Kafka and
/// checked in Keeper with kazoo and in each broker's own segment files: acks=all records are on every replica; a leader
/// killed with SIGKILL under an idempotent producer loses no acknowledged record and duplicates none; min.insync.replicas
/// refuses acks=all when two brokers are down; a paused follower leaves the ISR and comes back.
/// replica.lag.time.max.ms is 3 s here (Kafka's default is 30 s).
/// </summary>
public sealed class ReplicationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly Dictionary<string, string> Config = new() { ["replica.lag.time.max.ms"] = "3000" };

    private static async Task<BrokerCluster> StartClusterAsync(int brokers = 3, bool apacheZooKeeper = false)
    {
        var cluster = await BrokerCluster.StartAsync(brokers, Config, apacheZooKeeper: apacheZooKeeper);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == brokers && c.Controller > 0, Deadline, $"{brokers} brokers and a controller");
        return cluster;
    }

    private static async Task<string> CreateTopicAsync(BrokerCluster cluster, string prefix)
    {
        string topic = Clients.NewTopic(prefix);
        using var admin = Clients.Admin(cluster.BootstrapServers);
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = 1, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" },
        }]);
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader > 0 && s.Isr.Length == 3, Deadline, "a leader and all three in sync");
        return topic;
    }

    /// <summary>
    /// Waits until every running broker's copy of the partition (of the brokers in <paramref name="replicas"/>, when
    /// given) holds exactly <paramref name="expected"/>, in order.
    /// </summary>
    private static async Task WaitForEveryReplicaAsync(BrokerCluster cluster, string topic, IReadOnlyList<string> expected, int[]? replicas = null)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var copies = cluster.Brokers.Where(b => b.Value.IsRunning && (replicas is null || replicas.Contains(b.Key)))
                .ToDictionary(b => b.Key, b => BrokerCluster.ReplicaRecords(b.Value, topic, 0));
            if (copies.Values.All(c => c.Select(r => r.Value).SequenceEqual(expected)))
            {
                Assert.All(copies.Values, c => Assert.Equal(Enumerable.Range(0, expected.Count).Select(i => (long)i), c.Select(r => r.Offset)));
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the replicas never all held the {expected.Count} records: "
                + string.Join("; ", copies.Select(c => $"broker {c.Key} has {c.Value.Count}")) + $"\n{cluster.Diagnostics()}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task an_acks_all_record_is_on_every_replica_and_every_replica_stays_in_sync()
    {
        await using var cluster = await StartClusterAsync();
        string topic = await CreateTopicAsync(cluster, "acks-all");
        var values = Enumerable.Range(0, 30).Select(i => $"v{i}").ToList();
        using (var producer = Clients.Producer(cluster.BootstrapServers, c => c.Acks = Acks.All))
            foreach (string value in values)
                Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = value })).Status);

        await WaitForEveryReplicaAsync(cluster, topic, values);
        var state = await cluster.PartitionStateAsync(topic, 0);
        Assert.Equal([1, 2, 3], state.Isr.Order());
        Assert.Equal(0, state.LeaderEpoch);
        Assert.Equal(values, Clients.ConsumeFromStart(cluster.BootstrapServers, topic, 1, values.Count).Select(r => r.Message.Value));

        // Followers do not serve clients: produce to one is NOT_LEADER_OR_FOLLOWER (the client goes to the leader).
        var follower = cluster.Brokers.First(b => b.Key != state.Leader).Value;
        using var raw = await RawKafkaConnection.ConnectAsync(follower.KafkaPort);
        var batch = new Quill.Kafka.Protocol.Records.RecordBatchBuilder().Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, "stray"u8.ToArray()).Build();
        var produced = await RawRequests.ProduceAsync(raw, topic, 9, batch);
        Assert.Equal((short)Quill.Kafka.Protocol.KafkaError.NotLeaderOrFollower, produced.GetInt16("ErrorCode"));
    }

    /// <summary>Also on five brokers (RF 3 of 5), and with the metadata in Apache ZooKeeper 3.8 instead of Keeper.</summary>
    [Theory]
    [InlineData(3, false)]
    [InlineData(5, false)]
    [InlineData(3, true)]
    public async Task a_leader_killed_under_an_idempotent_acks_all_producer_loses_and_duplicates_no_acknowledged_record_and_rejoins(int brokers, bool apacheZooKeeper)
    {
        await using var cluster = await StartClusterAsync(brokers, apacheZooKeeper);
        string topic = await CreateTopicAsync(cluster, "failover");
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
                int i = next++;
                producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"{i}" }, report =>
                {
                    if (report.Error.IsError) failed.Add($"{i}: {report.Error}");
                    else acknowledged[i] = report.Offset.Value;
                });
                Thread.Sleep(2);
            }
        }

        await Task.Run(() => ProduceUntil(200));
        cluster.Brokers[before.Leader].Kill();
        var after = await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader > 0 && s.Leader != before.Leader, Deadline,
            $"a leader other than the killed broker {before.Leader}");
        Assert.True(after.LeaderEpoch > before.LeaderEpoch);
        Assert.Contains(after.Leader, before.Isr);
        // The producer goes on with the new leader.
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

        // The old leader comes back as a follower, catches up (truncating whatever it alone had) and rejoins the ISR.
        await cluster.Brokers[before.Leader].StartAgainAsync();
        var healed = await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Isr.Length == 3, Deadline, "the restarted broker back in the ISR");
        Assert.Contains(before.Leader, healed.Isr);
        await WaitForEveryReplicaAsync(cluster, topic, consumed.Select(r => r.Message.Value).ToList(), healed.Isr);
    }

    [Fact]
    public async Task with_two_of_three_brokers_down_acks_all_is_refused_for_too_few_in_sync_replicas_acks_one_works_and_nothing_is_lost()
    {
        await using var cluster = await StartClusterAsync();
        string topic = await CreateTopicAsync(cluster, "min-isr");
        var state = await cluster.PartitionStateAsync(topic, 0);
        var sent = new List<string>();
        using (var producer = Clients.Producer(cluster.BootstrapServers))
            for (int i = 0; i < 10; i++)
            {
                sent.Add($"all-{i}");
                await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = sent[^1] });
            }

        var down = cluster.Brokers.Keys.Where(id => id != state.Leader).ToList();
        foreach (int id in down) cluster.Brokers[id].Kill();
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == state.Leader && s.Isr.SequenceEqual([state.Leader]), Deadline,
            $"the ISR shrunk to the leader {state.Leader}");

        string leader = cluster.Brokers[state.Leader].BootstrapServers;
        using (var producer = Clients.Producer(leader, c => { c.Acks = Acks.All; c.MessageSendMaxRetries = 0; c.MessageTimeoutMs = 10_000; }))
        {
            var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
                producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "refused" }));
            Assert.Equal(ErrorCode.NotEnoughReplicas, refused.Error.Code);
        }
        using (var producer = Clients.Producer(leader, c => c.Acks = Acks.Leader))
            for (int i = 0; i < 5; i++)
            {
                sent.Add($"one-{i}");
                Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = sent[^1] })).Status);
            }

        foreach (int id in down) await cluster.Brokers[id].StartAgainAsync();
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Isr.Length == 3, Deadline, "the returned brokers back in the ISR");
        await WaitForEveryReplicaAsync(cluster, topic, sent);
        Assert.Equal(sent, Clients.ConsumeFromStart(cluster.BootstrapServers, topic, 1, sent.Count).Select(r => r.Message.Value));
    }

    [Fact]
    public async Task a_paused_follower_leaves_the_isr_after_the_lag_time_and_rejoins_once_resumed()
    {
        await using var cluster = await StartClusterAsync();
        string topic = await CreateTopicAsync(cluster, "paused");
        var state = await cluster.PartitionStateAsync(topic, 0);
        var (controller, _) = await cluster.ControllerInKeeperAsync();
        int paused = cluster.Brokers.Keys.First(id => id != state.Leader && id != controller);

        var sent = new List<string>();
        using var producer = Clients.Producer(cluster.Brokers[state.Leader].BootstrapServers, c => c.Acks = Acks.All);
        BrokerCluster.Signal(cluster.Brokers[paused], pause: true);
        try
        {
            var shrunk = await cluster.WaitForPartitionStateAsync(topic, 0, s => !s.Isr.Contains(paused), TimeSpan.FromSeconds(30),
                $"broker {paused} out of the ISR");
            Assert.Equal(2, shrunk.Isr.Length);
            // Two in sync still meet min.insync.replicas=2.
            for (int i = 0; i < 10; i++)
            {
                sent.Add($"v{i}");
                Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = sent[^1] })).Status);
            }
        }
        finally
        {
            BrokerCluster.Signal(cluster.Brokers[paused], pause: false);
        }
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Isr.Contains(paused), Deadline, $"broker {paused} back in the ISR");
        await WaitForEveryReplicaAsync(cluster, topic, sent);
    }

    [Fact]
    public async Task confluent_kafka_python_produces_through_a_leader_kill_and_reads_every_acknowledged_record_once()
    {
        if (!File.Exists(ToolRunner.Python)) Assert.Fail($"{ToolRunner.Python} not found: apt-get install python3 python3-confluent-kafka");
        await using var cluster = await StartClusterAsync();
        string topic = await CreateTopicAsync(cluster, "py-failover");
        var before = await cluster.PartitionStateAsync(topic, 0);
        string marker = Path.Combine(Path.GetTempPath(), $"quill-py-failover-{Guid.NewGuid():N}");
        try
        {
            const int Total = 400;
            var run = ToolRunner.RunAsync(ToolRunner.Python,
                [Path.Combine(AppContext.BaseDirectory, "scripts", "python_failover.py"), cluster.BootstrapServers, topic, $"{Total}", marker],
                timeout: TimeSpan.FromMinutes(5));
            var until = DateTime.UtcNow + Deadline;
            while (!File.Exists(marker) && !run.IsCompleted)
            {
                Assert.True(DateTime.UtcNow < until, "the python producer never got half of its records acknowledged");
                await Task.Delay(20);
            }
            // Half acknowledged and the producer still writing: its partition's leader dies.
            cluster.Brokers[before.Leader].Kill();
            var result = await run;
            Assert.True(result.Succeeded, result.ToString());
            if (result.StdErr.Contains("No module named 'confluent_kafka'"))
                Assert.Fail($"confluent_kafka is missing: apt-get install python3-confluent-kafka\n{result}");
            using var json = JsonDocument.Parse(result.StdOut.Trim().Split('\n')[^1]);
            var acked = json.RootElement.GetProperty("acked").EnumerateArray().Select(e => e.GetString()!).ToList();
            var consumed = json.RootElement.GetProperty("consumed").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Empty(json.RootElement.GetProperty("errors").EnumerateArray());
            Assert.Equal(Enumerable.Range(0, Total).Select(i => $"py-{i}"), acked);
            // Every acknowledged record once, in order: nothing lost to the failover, no retry written twice.
            Assert.Equal(acked, consumed);
            var after = await cluster.PartitionStateAsync(topic, 0);
            Assert.NotEqual(before.Leader, after.Leader);
            Assert.True(after.LeaderEpoch > before.LeaderEpoch);
        }
        finally
        {
            File.Delete(marker);
        }
    }
}
