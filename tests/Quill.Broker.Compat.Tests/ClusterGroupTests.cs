using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Broker.Groups;

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
