using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Leader elections asked for or done by the controller across three `quill broker start` processes
/// (<see cref="BrokerCluster"/>): preferred-replica election through Confluent.Kafka's ElectLeaders (and
/// NOT_CONTROLLER from the other brokers), the controller's own periodic rebalance back to the preferred replicas
/// (auto.leader.rebalance.enable), and unclean election (the topic config on failover, ElectLeaders UNCLEAN otherwise).
/// </summary>
public sealed class LeaderElectionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static async Task<BrokerCluster> StartClusterAsync(Dictionary<string, string> config)
    {
        config["replica.lag.time.max.ms"] = "3000";
        var cluster = await BrokerCluster.StartAsync(3, config);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        return cluster;
    }

    /// <summary>A one-partition topic on <paramref name="replicas"/> (the first is the preferred leader), all in sync.</summary>
    private static async Task<string> CreateTopicAsync(BrokerCluster cluster, string prefix, int[] replicas, Dictionary<string, string>? configs = null)
    {
        string topic = Clients.NewTopic(prefix);
        using var admin = Clients.Admin(cluster.BootstrapServers);
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = 1, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [.. replicas] }, Configs = configs ?? [],
        }]);
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == replicas[0] && s.Isr.Length == replicas.Length, Deadline,
            $"leader {replicas[0]} and all replicas in sync");
        return topic;
    }

    /// <summary>SIGTERM the preferred leader (its leadership moves away), start it again and wait until it is back in the ISR.</summary>
    private static async Task<(int Leader, int LeaderEpoch, int[] Isr)> MoveLeadershipAwayAndBackInSyncAsync(BrokerCluster cluster, string topic,
        Func<Task>? whileDown = null)
    {
        var broker = cluster.Brokers[1];
        Assert.Equal(0, await broker.TerminateAsync(TimeSpan.FromSeconds(60)));
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader is 2 or 3, Deadline, "a leader other than the stopped broker 1");
        if (whileDown is not null) await whileDown();
        await broker.StartAgainAsync();
        return await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Isr.Length == 3, Deadline, "broker 1 back in the ISR");
    }

    /// <summary>Runs `quill leader-election --bootstrap-server ... args`.</summary>
    private static Task<Quill.Testing.ToolResult> LeaderElectionToolAsync(BrokerCluster cluster, params string[] args) =>
        Quill.Testing.ToolRunner.RunAsync("dotnet", [Quill.Testing.KeeperProcess.QuillDll, "leader-election", "--bootstrap-server", cluster.BootstrapServers, .. args],
            timeout: TimeSpan.FromSeconds(120), environment: new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });

    [Fact]
    public async Task a_preferred_election_moves_leadership_back_to_the_first_replica_once_it_is_in_sync()
    {
        await using var cluster = await StartClusterAsync(new() { ["auto.leader.rebalance.enable"] = "false" });
        string topic = await CreateTopicAsync(cluster, "preferred", [1, 2, 3]);
        var partition = new TopicPartition(topic, 0);

        var moved = await MoveLeadershipAwayAndBackInSyncAsync(cluster, topic, whileDown: async () =>
        {
            // The preferred replica is down: it cannot take over.
            using var admin = Clients.Admin(cluster.BootstrapServers);
            var e = await Assert.ThrowsAsync<ElectLeadersException>(() => admin.ElectLeadersAsync(ElectionType.Preferred, [partition]));
            Assert.Equal(ErrorCode.PreferredLeaderNotAvailable, Assert.Single(e.Results.TopicPartitions).Error.Code);
            // The same through `quill leader-election`, which fails with Kafka's error name.
            var tool = await LeaderElectionToolAsync(cluster, "--election-type", "PREFERRED", "--topic", topic, "--partition", "0");
            Assert.True(tool.ExitCode == 1 && tool.StdErr.Contains("PREFERRED_LEADER_NOT_AVAILABLE", StringComparison.Ordinal), $"{tool}");
        });
        Assert.NotEqual(1, moved.Leader); // nothing moves it back by itself here

        using (var admin = Clients.Admin(cluster.BootstrapServers))
        {
            var result = await admin.ElectLeadersAsync(ElectionType.Preferred, [partition]);
            Assert.Equal(ErrorCode.NoError, Assert.Single(result.TopicPartitions).Error.Code);
            var back = await cluster.PartitionStateAsync(topic, 0);
            Assert.Equal(1, back.Leader);
            Assert.True(back.LeaderEpoch > moved.LeaderEpoch);
            Assert.Equal(3, back.Isr.Length);

            // Asked again: the preferred replica leads already.
            var again = await Assert.ThrowsAsync<ElectLeadersException>(() => admin.ElectLeadersAsync(ElectionType.Preferred, [partition]));
            Assert.Equal(ErrorCode.ElectionNotNeeded, Assert.Single(again.Results.TopicPartitions).Error.Code);
            var tool = await LeaderElectionToolAsync(cluster, "--election-type", "preferred", "--topic", topic, "--partition", "0");
            Assert.True(tool.ExitCode == 0 && tool.StdOut.Contains($"Valid replica already elected for partitions {topic}-0", StringComparison.Ordinal), $"{tool}");
            var bad = await LeaderElectionToolAsync(cluster, "--election-type", "PREFERRED", "--topic", topic);
            Assert.True(bad.ExitCode == 2 && bad.StdErr.Contains("--topic needs --partition", StringComparison.Ordinal), $"{bad}");
        }

        // The new leader serves: acks=all through broker 1, read back.
        using (var producer = Clients.Producer(cluster.BootstrapServers, c => c.Acks = Acks.All))
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync(partition, new Message<string, string> { Key = "k", Value = "after" })).Status);
        Assert.Equal(["after"], Clients.ConsumeFromStart(cluster.BootstrapServers, topic, 1, 1).Select(r => r.Message.Value));

        // A broker that is not the controller answers NOT_CONTROLLER (clients send ElectLeaders to the controller).
        var (controller, _) = await cluster.ControllerInKeeperAsync();
        var other = cluster.Brokers.First(b => b.Key != controller).Value;
        using var raw = await RawKafkaConnection.ConnectAsync(other.KafkaPort);
        var request = KafkaApis.ElectLeaders.Request.New().SetInt("ElectionType", 0);
        request.AddElement("TopicPartitions").SetString("Topic", topic).SetInt32Array("Partitions", [0]);
        var response = await raw.RequestAsync(KafkaApis.ElectLeaders, 2, request);
        var answer = Assert.Single(Assert.Single(response.GetArray("ReplicaElectionResults")!).GetArray("PartitionResult")!);
        Assert.Equal((short)KafkaError.NotController, answer.GetInt16("ErrorCode"));
    }

    [Fact]
    public async Task with_auto_rebalance_the_controller_moves_leadership_back_to_the_preferred_replica_by_itself()
    {
        await using var cluster = await StartClusterAsync(new()
        {
            ["auto.leader.rebalance.enable"] = "true", ["leader.imbalance.check.interval.seconds"] = "1",
        });
        string topic = await CreateTopicAsync(cluster, "rebalance", [1, 2, 3]);
        var moved = await MoveLeadershipAwayAndBackInSyncAsync(cluster, topic);
        var back = await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == 1, Deadline, "broker 1, the preferred replica, leading again");
        Assert.True(back.LeaderEpoch > moved.LeaderEpoch || moved.Leader == 1);
        Assert.Equal(3, back.Isr.Length);
    }

    [Fact]
    public async Task an_unclean_election_elects_a_replica_out_of_the_isr_when_the_topic_allows_it_or_an_admin_asks()
    {
        await using var cluster = await StartClusterAsync(new() { ["auto.leader.rebalance.enable"] = "false" });
        string allowed = await CreateTopicAsync(cluster, "unclean-on", [1, 2], new() { ["unclean.leader.election.enable"] = "true" });
        string clean = await CreateTopicAsync(cluster, "unclean-off", [1, 2]);

        // Broker 2 dies and leaves both ISRs; then broker 1, the only in-sync replica, dies too.
        cluster.Brokers[2].Kill();
        foreach (string topic in new[] { allowed, clean })
            await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Isr.SequenceEqual([1]), Deadline, "the ISR shrunk to broker 1");
        cluster.Brokers[1].Kill();
        foreach (string topic in new[] { allowed, clean })
            await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == -1, Deadline, "no leader");

        // Broker 2 returns, out of sync: it leads only the topic that allows an unclean election.
        await cluster.Brokers[2].StartAgainAsync();
        var elected = await cluster.WaitForPartitionStateAsync(allowed, 0, s => s.Leader == 2, Deadline, "broker 2 elected uncleanly");
        Assert.Equal([2], elected.Isr);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 2, Deadline, "broker 2 registered again");
        Assert.Equal(-1, (await cluster.PartitionStateAsync(clean, 0)).Leader);

        // An admin's UNCLEAN election moves the other too.
        using var admin = Clients.Admin(cluster.BootstrapServers);
        var result = await admin.ElectLeadersAsync(ElectionType.Unclean, [new TopicPartition(clean, 0)]);
        Assert.Equal(ErrorCode.NoError, Assert.Single(result.TopicPartitions).Error.Code);
        var forced = await cluster.PartitionStateAsync(clean, 0);
        Assert.Equal(2, forced.Leader);
        Assert.Equal([2], forced.Isr);
        // And the partition with a live leader needs no unclean election.
        var notNeeded = await Assert.ThrowsAsync<ElectLeadersException>(() => admin.ElectLeadersAsync(ElectionType.Unclean, [new TopicPartition(allowed, 0)]));
        Assert.Equal(ErrorCode.ElectionNotNeeded, Assert.Single(notNeeded.Results.TopicPartitions).Error.Code);
    }
}
