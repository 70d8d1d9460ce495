using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Three `quill broker start` processes on one Keeper (<see cref="BrokerCluster"/>): every broker names all live
/// brokers and the one controller; kill -9 of the controller elects another (a higher /controller_epoch, read with
/// kazoo) and the dead broker leaves every broker's metadata, until it is started again and rejoins; topics are
/// spread over the brokers, and each partition is produced to and consumed from its leader by Confluent.Kafka.
/// </summary>
public sealed class BrokerClusterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task a_killed_controller_is_replaced_with_a_higher_epoch_leaves_the_metadata_of_every_broker_and_rejoins_when_restarted()
    {
        await using var cluster = await BrokerCluster.StartAsync(3);
        var all = await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        int controller = all[1].Controller;
        Assert.All(all.Values, c => Assert.Equal(controller, c.Controller));
        Assert.All(all.Values, c => Assert.Equal(
            cluster.Brokers.Select(b => (b.Key, b.Value.KafkaPort, (string?)$"rack-{b.Key}")), c.Nodes));
        var (inKeeper, epochBefore) = await cluster.ControllerInKeeperAsync();
        Assert.Equal(controller, inKeeper);

        // What a client library sees: Confluent's admin client names the three brokers and the same controller.
        string spread = Clients.NewTopic("before-kill");
        using (var admin = Clients.Admin(cluster.BootstrapServers))
        {
            var described = await admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = Clients.Timeout });
            Assert.Equal([1, 2, 3], described.Nodes.Select(n => n.Id).Order());
            Assert.Equal(controller, described.Controller?.Id);
            // One partition on each broker, the killed one's included.
            await admin.CreateTopicsAsync([new TopicSpecification { Name = spread, NumPartitions = 3, ReplicationFactor = 1 }]);
        }
        var acknowledged = await ProduceToEveryPartitionAsync(cluster.BootstrapServers, spread, 3, 5);

        cluster.Brokers[controller].Kill();
        var after = await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 2 && c.Controller > 0 && c.Controller != controller,
            Deadline, $"the killed controller {controller} is gone and another broker is controller");
        int successor = after.Values.First().Controller;
        Assert.All(after.Values, c => Assert.Equal(successor, c.Controller));
        Assert.All(after.Values, c => Assert.DoesNotContain(c.Nodes, n => n.Id == controller));
        var (inKeeperAfter, epochAfter) = await cluster.ControllerInKeeperAsync();
        Assert.Equal(successor, inKeeperAfter);
        Assert.True(epochAfter > epochBefore, $"/controller_epoch went from {epochBefore} to {epochAfter}");

        // The cluster works on under its new controller: it creates a topic on the two brokers left.
        string topic = Clients.NewTopic("after-failover");
        using (var admin = Clients.Admin(cluster.BootstrapServers))
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);

        await cluster.Brokers[controller].StartAgainAsync();
        var rejoined = await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3, Deadline, $"broker {controller} is back");
        Assert.All(rejoined.Values, c => Assert.Equal(successor, c.Controller));

        // Its partition (one replica) was offline while it was away (its data is on it alone); now it leads it again, data intact.
        var consumed = Clients.ConsumeFromStart(cluster.BootstrapServers, spread, 3, acknowledged.Count);
        Assert.Equal(acknowledged.Select(d => (d.Partition.Value, d.Offset.Value, d.Message.Value)).Order(),
            consumed.Select(c => (c.Partition.Value, c.Offset.Value, c.Message.Value)).Order());
    }

    [Fact]
    public async Task a_controller_whose_session_expires_stops_acting_as_one_and_every_broker_follows_a_new_election()
    {
        await using var cluster = await BrokerCluster.StartAsync(2);
        var all = await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 2 && c.Controller > 0, Deadline, "two brokers and a controller");
        int controller = all[1].Controller;
        var (_, epochBefore) = await cluster.ControllerInKeeperAsync();

        // Attach to the controller's own session (its id and password are in its log dir) and close it: its
        // ephemerals, /controller among them, go at once, while the process runs on.
        var deposed = cluster.Brokers[controller];
        var session = File.ReadAllText(Path.Combine(deposed.Directory, "kafka-logs", ".keeper-session")).Trim().Split(' ');
        await cluster.KazooAsync("""
            import sys
            from kazoo.client import KazooClient
            thief = KazooClient(hosts=sys.argv[1], client_id=(int(sys.argv[2], 16), bytes.fromhex(sys.argv[3])))
            thief.start(timeout=30)
            assert thief.client_id[0] == int(sys.argv[2], 16), "did not attach to the controller's session"
            thief.stop(); thief.close()
            """, session[0], session[1]);

        // A new election (a higher epoch); the other broker normally wins it, being told at once, while the deposed one
        // first has to find its session gone and register again; either way every broker follows the winner.
        var until = DateTime.UtcNow + Deadline;
        var (winner, epochAfter) = await cluster.ControllerInKeeperAsync();
        while (epochAfter <= epochBefore)
        {
            Assert.True(DateTime.UtcNow < until, $"/controller_epoch stayed at {epochBefore}\n{cluster.Diagnostics()}");
            await Task.Delay(250);
            (winner, epochAfter) = await cluster.ControllerInKeeperAsync();
        }
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 2 && c.Controller == winner, Deadline,
            $"broker {winner} is the controller and broker {controller} registered again");
        Assert.True(deposed.IsRunning, deposed.Diagnostics());
        Assert.Contains($"broker {controller} stops acting as controller", deposed.Output);

        // The broker that is not the controller refuses to create a topic, as Kafka does, and clients that go to the
        // controller it names get the topic created.
        var follower = cluster.Brokers[3 - winner];
        using (var connection = await RawKafkaConnection.ConnectAsync(follower.KafkaPort))
        {
            var request = KafkaApis.CreateTopics.Request.New().SetInt("TimeoutMs", 30_000);
            request.AddElement("Topics").SetString("Name", Clients.NewTopic("refused")).SetInt("NumPartitions", 1).SetInt("ReplicationFactor", 1);
            var response = await connection.RequestAsync(KafkaApis.CreateTopics, 5, request);
            Assert.Equal((short)KafkaError.NotController, response.GetArray("Topics")![0].GetInt16("ErrorCode"));
        }
        string topic = Clients.NewTopic("after-deposition");
        using (var admin = Clients.Admin(deposed.BootstrapServers))
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);
        var sent = await ProduceToEveryPartitionAsync(deposed.BootstrapServers, topic, 2, 3);
        Assert.Equal(sent.Count, Clients.ConsumeFromStart(deposed.BootstrapServers, topic, 2, sent.Count).Count);
    }

    private static async Task<List<DeliveryResult<string, string>>> ProduceToEveryPartitionAsync(string bootstrap, string topic, int partitions, int each)
    {
        var sent = new List<DeliveryResult<string, string>>();
        using var producer = Clients.Producer(bootstrap);
        for (int p = 0; p < partitions; p++)
            for (int i = 0; i < each; i++)
                sent.Add(await producer.ProduceAsync(new TopicPartition(topic, p), new Message<string, string> { Key = $"{i}", Value = $"p{p}-{i}" }));
        Assert.All(sent, d => Assert.Equal(PersistenceStatus.Persisted, d.Status));
        return sent;
    }

    [Fact]
    public async Task a_topic_spreads_its_leaders_over_the_brokers_and_each_partition_is_served_by_its_leader_alone()
    {
        await using var cluster = await BrokerCluster.StartAsync(3);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        string topic = Clients.NewTopic("spread");
        using var admin = Clients.Admin(cluster.Brokers[2].BootstrapServers);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 6, ReplicationFactor = 3 }]);

        var description = await Clients.DescribeTopicAsync(admin, topic);
        var partitions = description.Partitions.OrderBy(p => p.Partition).ToList();
        Assert.Equal(6, partitions.Count);
        Assert.All(partitions, p => Assert.Equal([1, 2, 3], p.Replicas.Select(r => r.Id).Order()));
        Assert.All(partitions, p => Assert.Equal(p.Replicas[0].Id, p.Leader.Id));
        // Round robin: each broker leads two of the six.
        Assert.All(partitions.GroupBy(p => p.Leader.Id), g => Assert.Equal(2, g.Count()));
        Assert.Equal(3, partitions.Select(p => p.Leader.Id).Distinct().Count());

        // Each partition's state znode is what Kafka's controller writes: leader, leader epoch 0, the ISR (every
        // replica, in assignment order: all start empty and in sync), the controller's epoch, version 1.
        var (_, epoch) = await cluster.ControllerInKeeperAsync();
        string states = await cluster.KazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            for p in range(6):
                s = json.loads(zk.get('/brokers/topics/%s/partitions/%d/state' % (sys.argv[2], p))[0])
                print(p, s['leader'], s['leader_epoch'], ','.join(map(str, s['isr'])), s['controller_epoch'], s['version'])
            zk.stop()
            """, topic);
        Assert.Equal(partitions.Select(p => $"{p.Partition} {p.Leader.Id} 0 {string.Join(',', p.Replicas.Select(r => r.Id))} {epoch} 1"),
            states.Split('\n').Select(l => l.Trim()));

        // Confluent.Kafka, bootstrapped from one broker, produces to and consumes from every partition through its leader.
        var sent = await ProduceToEveryPartitionAsync(cluster.Brokers[1].BootstrapServers, topic, 6, 10);
        var consumed = Clients.ConsumeFromStart(cluster.Brokers[3].BootstrapServers, topic, 6, sent.Count);
        Assert.Equal(sent.Select(d => (d.Partition.Value, d.Offset.Value, d.Message.Value)).Order(),
            consumed.Select(c => (c.Partition.Value, c.Offset.Value, c.Message.Value)).Order());

        // A consumer group works across the brokers: its coordinator is the leader of its __consumer_offsets partition.
        string group = Clients.NewTopic("group");
        using (var member = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.Brokers[2].BootstrapServers, GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        }).Build())
        {
            member.Subscribe(topic);
            int read = 0;
            var until = DateTime.UtcNow + Clients.Timeout;
            while (read < sent.Count)
            {
                Assert.True(DateTime.UtcNow < until, $"the group read {read} of {sent.Count} records\n{cluster.Diagnostics()}");
                if (member.Consume(TimeSpan.FromMilliseconds(500)) is { IsPartitionEOF: false }) read++;
            }
            member.Commit();
            member.Close();
        }
        var committed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, null)]);
        Assert.Equal(Enumerable.Repeat(10L, 6), committed.Single().Partitions.OrderBy(p => p.Partition.Value).Select(p => p.Offset.Value));

        // Every replica has a log of its partition (followers copy the leader's); a broker that does not lead a
        // partition answers produce and fetch with NOT_LEADER_OR_FOLLOWER.
        int leader = partitions[0].Leader.Id;
        foreach (var (id, broker) in cluster.Brokers)
        {
            foreach (var p in partitions)
                Assert.True(Directory.Exists(Path.Combine(broker.Directory, "kafka-logs", $"{topic}-{p.Partition}")), $"broker {id} has no log of partition {p.Partition}");
            if (id == leader) continue;
            using var connection = await RawKafkaConnection.ConnectAsync(broker.KafkaPort);
            var fetched = await RawRequests.FetchAsync(connection, topic, 11, 0);
            Assert.Equal((short)KafkaError.NotLeaderOrFollower, fetched.GetInt16("ErrorCode"));
            var batch = new RecordBatchBuilder().Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, "stray"u8.ToArray()).Build();
            var produced = await RawRequests.ProduceAsync(connection, topic, 9, batch);
            Assert.Equal((short)KafkaError.NotLeaderOrFollower, produced.GetInt16("ErrorCode"));
        }
    }

    [Fact]
    public async Task replication_factors_above_the_live_brokers_and_assignments_to_unknown_brokers_are_refused_and_given_ones_are_kept()
    {
        await using var cluster = await BrokerCluster.StartAsync(3);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        using var admin = Clients.Admin(cluster.BootstrapServers);

        var tooMany = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = Clients.NewTopic("rf4"), NumPartitions = 1, ReplicationFactor = 4 }]));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, tooMany.Results.Single().Error.Code);

        var unknown = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = Clients.NewTopic("unknown-broker"), NumPartitions = 1, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [1, 9] } }]));
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, unknown.Results.Single().Error.Code);

        string given = Clients.NewTopic("given");
        await admin.CreateTopicsAsync([new TopicSpecification { Name = given, NumPartitions = 2, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [3, 1], [1] = [2, 3] } }]);
        var description = await Clients.DescribeTopicAsync(admin, given);
        Assert.Equal([(0, 3, new[] { 3, 1 }), (1, 2, new[] { 2, 3 })],
            description.Partitions.OrderBy(p => p.Partition).Select(p => (p.Partition, p.Leader.Id, p.Replicas.Select(r => r.Id).ToArray())));
    }
}
