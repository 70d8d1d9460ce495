using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Broker.Groups;
using Quill.Broker.Transactions;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The group coordinator in a cluster of three `quill broker start` processes (<see cref="BrokerCluster"/>) with
/// offsets.topic.replication.factor 3, driven by Confluent.Kafka: <c>__consumer_offsets</c> is created only once three
/// brokers are up, with three replicas; when the broker coordinating a group is killed with SIGKILL, the group carries
/// on with the new leader of its partition and no offset it committed is lost.
/// </summary>
public sealed class ClusterGroupTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private const int OffsetsPartitions = 6, TopicPartitions = 3, Records = 300;

    [Fact]
    public async Task a_group_goes_on_with_the_new_coordinator_after_its_broker_is_killed_and_keeps_every_committed_offset()
    {
        await using var cluster = await BrokerCluster.StartAsync(3, new Dictionary<string, string>
        {
            ["replica.lag.time.max.ms"] = "3000",
            ["offsets.topic.replication.factor"] = "3",
            ["offsets.topic.num.partitions"] = $"{OffsetsPartitions}",
        });
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        string topic = Clients.NewTopic("cluster-group");
        using (var admin = Clients.Admin(cluster.BootstrapServers))
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = TopicPartitions, ReplicationFactor = 3 }]);
        using (var producer = Clients.Producer(cluster.BootstrapServers))
        {
            for (int i = 0; i < Records; i++)
                producer.Produce(new TopicPartition(topic, i % TopicPartitions), new Message<string, string> { Key = "k", Value = $"{i}" });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }

        string group = "group-" + topic;
        var consumedBefore = new List<ConsumeResult<string, string>>();
        var consumer = GroupConsumer(cluster.BootstrapServers, group);
        Dictionary<int, long> committedLater;
        try
        {
            consumer.Subscribe(topic);
            ConsumeAndCommit(consumer, consumedBefore, 120, cluster);
            var committedBefore = Committed(consumer, topic);

            // The first commit created __consumer_offsets, once all three brokers were up: three replicas each.
            int offsetsPartition = OffsetsTopic.PartitionFor(group, OffsetsPartitions);
            var before = await cluster.WaitForPartitionStateAsync(OffsetsTopic.Name, offsetsPartition, s => s.Leader > 0 && s.Isr.Length == 3,
                Deadline, "the group's offsets partition led, with all three in sync");
            cluster.Brokers[before.Leader].Kill();
            var after = await cluster.WaitForPartitionStateAsync(OffsetsTopic.Name, offsetsPartition, s => s.Leader > 0 && s.Leader != before.Leader,
                Deadline, $"a leader other than the killed broker {before.Leader}");
            Assert.True(after.LeaderEpoch > before.LeaderEpoch);

            // Nothing committed was lost with the broker, and the same consumer goes on committing with the new coordinator.
            var committedAfterKill = Committed(consumer, topic);
            Assert.Equal(committedBefore, committedAfterKill);
            ConsumeAndCommit(consumer, consumedBefore, 60, cluster);
            committedLater = Committed(consumer, topic);
            Assert.All(committedLater, c => Assert.True(c.Value >= committedBefore[c.Key], $"partition {c.Key}: committed {c.Value} after {committedBefore[c.Key]}"));
        }
        finally
        {
            consumer.Close();
            consumer.Dispose();
        }

        // A new member of the group starts where the group's commits left off: together, every record exactly once.
        var committedPrefix = consumedBefore.Where(r => r.Offset.Value < committedLater[r.Partition.Value])
            .DistinctBy(r => (r.Partition.Value, r.Offset.Value)).ToList();
        var rest = new List<ConsumeResult<string, string>>();
        using (var successor = GroupConsumer(cluster.BootstrapServers, group))
        {
            successor.Subscribe(topic);
            var until = DateTime.UtcNow + Deadline;
            while (committedPrefix.Count + rest.Count < Records)
            {
                Assert.True(DateTime.UtcNow < until, $"{committedPrefix.Count} + {rest.Count} of {Records} records consumed\n{cluster.Diagnostics()}");
                if (successor.Consume(TimeSpan.FromMilliseconds(500)) is { IsPartitionEOF: false } result) rest.Add(result);
            }
            successor.Close();
        }
        Assert.All(rest, r => Assert.True(r.Offset.Value >= committedLater[r.Partition.Value],
            $"{r.TopicPartitionOffset} read again although the group had committed {committedLater[r.Partition.Value]}"));
        var all = committedPrefix.Concat(rest).Select(r => int.Parse(r.Message.Value)).ToList();
        Assert.Equal(Enumerable.Range(0, Records), all.Order());
    }

    [Fact]
    public async Task the_internal_topics_wait_for_as_many_brokers_as_their_replication_factor_and_coordinators_are_not_available_until_then()
    {
        var config = new Dictionary<string, string>
        {
            ["offsets.topic.replication.factor"] = "3",
            ["transaction.state.log.replication.factor"] = "3",
            ["transaction.state.log.num.partitions"] = "3",
        };
        await using var cluster = await BrokerCluster.StartAsync(2, config);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 2 && c.Controller > 0, Deadline, "two brokers and a controller");
        var first = cluster.Brokers[1];
        Assert.Equal(KafkaError.CoordinatorNotAvailable, (await FindCoordinatorAsync(first, GroupKey, "a-group")).Error);
        Assert.Equal(KafkaError.CoordinatorNotAvailable, (await FindCoordinatorAsync(first, TransactionKey, "a-transactional-id")).Error);
        Assert.Equal("none", await cluster.KazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            found = [t for t in ('__consumer_offsets', '__transaction_state') if zk.exists('/brokers/topics/' + t)]
            print(','.join(found) or 'none')
            zk.stop()
            """));

        // A third broker: now both topics are created, with three replicas, and each key has a live coordinator.
        cluster.Brokers[3] = await BrokerProcess.StartWithConfigAsync(cluster.Keeper.ConnectString, new Dictionary<string, string>(config)
        {
            ["broker.rack"] = "rack-3",
            ["zookeeper.session.timeout.ms"] = $"{BrokerCluster.SessionTimeoutMs}",
            ["offsets.topic.num.partitions"] = $"{OffsetsPartitions}",
        }, brokerId: 3);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3, Deadline, "three brokers");
        foreach (var (keyType, key) in new[] { (GroupKey, "a-group"), (TransactionKey, "a-transactional-id") })
        {
            var until = DateTime.UtcNow + Deadline;
            while (true)
            {
                var (error, node) = await FindCoordinatorAsync(first, keyType, key);
                if (error == KafkaError.None)
                {
                    Assert.Contains(node, cluster.Brokers.Keys);
                    break;
                }
                Assert.True(DateTime.UtcNow < until, $"FindCoordinator({key}) still answers {error}\n{cluster.Diagnostics()}");
                await Task.Delay(250);
            }
        }
        await cluster.WaitForPartitionStateAsync(OffsetsTopic.Name, OffsetsTopic.PartitionFor("a-group", OffsetsPartitions), s => s.Isr.Length == 3,
            Deadline, "three replicas in sync");
        await cluster.WaitForPartitionStateAsync(TransactionStateTopic.Name, TransactionStateTopic.PartitionFor("a-transactional-id", 3),
            s => s.Isr.Length == 3, Deadline, "three replicas in sync");
    }

    private const sbyte GroupKey = 0, TransactionKey = 1;

    private static async Task<(KafkaError Error, int Node)> FindCoordinatorAsync(BrokerProcess broker, sbyte keyType, string key)
    {
        using var connection = await RawKafkaConnection.ConnectAsync(broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.FindCoordinator, 3,
            KafkaApis.FindCoordinator.Request.New().SetString("Key", key).SetInt("KeyType", keyType));
        return ((KafkaError)response.GetInt16("ErrorCode"), response.GetInt32("NodeId"));
    }

    private static IConsumer<string, string> GroupConsumer(string bootstrap, string group) =>
        new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 30_000,
        }).Build();

    /// <summary>Consumes <paramref name="count"/> more records, committing them synchronously (retrying a commit the coordinator's move fails).</summary>
    private static void ConsumeAndCommit(IConsumer<string, string> consumer, List<ConsumeResult<string, string>> consumed, int count, BrokerCluster cluster)
    {
        var until = DateTime.UtcNow + Deadline;
        int target = consumed.Count + count;
        while (consumed.Count < target)
        {
            Assert.True(DateTime.UtcNow < until, $"{consumed.Count} of {target} records consumed\n{cluster.Diagnostics()}");
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is not { IsPartitionEOF: false } result) continue;
            consumed.Add(result);
            if (consumed.Count % 10 != 0) continue;
            while (true)
            {
                Assert.True(DateTime.UtcNow < until, $"the commit after {consumed.Count} records never succeeded\n{cluster.Diagnostics()}");
                try
                {
                    consumer.Commit();
                    break;
                }
                catch (KafkaException e) when (!e.Error.IsFatal)
                {
                    Thread.Sleep(200);
                }
            }
        }
    }

    /// <summary>The group's committed offset of each partition of <paramref name="topic"/>, as the coordinator answers.</summary>
    private static Dictionary<int, long> Committed(IConsumer<string, string> consumer, string topic)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                return consumer.Committed(Enumerable.Range(0, TopicPartitions).Select(p => new TopicPartition(topic, p)), Clients.Timeout)
                    .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
            }
            catch (KafkaException e) when (!e.Error.IsFatal && DateTime.UtcNow < until)
            {
                Thread.Sleep(200);
            }
        }
    }
}
