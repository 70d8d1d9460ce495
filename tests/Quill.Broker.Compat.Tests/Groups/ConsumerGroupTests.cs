using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Quill.Broker.Compat.Tests.Groups;

/// <summary>Consumer groups of librdkafka consumers (Confluent.Kafka) against a live `quill start`.</summary>
public sealed class ConsumerGroupTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private const int Partitions = 6;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly BrokerProcess _broker = fixture.Broker;
    private string Bootstrap => _broker.BootstrapServers;

    [Theory]
    [InlineData(PartitionAssignmentStrategy.Range)]
    [InlineData(PartitionAssignmentStrategy.RoundRobin)]
    [InlineData(PartitionAssignmentStrategy.CooperativeSticky)]
    public async Task Three_consumers_rebalance_as_members_join_and_leave_without_losing_or_repeating_a_message(PartitionAssignmentStrategy strategy)
    {
        string topic = Clients.NewTopic("group");
        string group = Clients.NewTopic("g");
        await Clients.CreateTopicAsync(Bootstrap, topic, Partitions);
        var consumed = new ConcurrentQueue<(int Partition, long Offset, string Value)>();
        using var producer = Clients.Producer(Bootstrap);
        int produced = 0;
        void Produce(int count)
        {
            for (int i = 0; i < count; i++, produced++)
                producer.Produce(topic, new Message<string, string> { Key = $"k{produced}", Value = $"{produced}" });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }

        var consumers = new List<GroupConsumer>();
        GroupConsumer Start(string name)
        {
            var consumer = new GroupConsumer(name, Bootstrap, group, topic, strategy, consumed);
            consumers.Add(consumer);
            return consumer;
        }
        try
        {
            var a = Start("a");
            Produce(150);
            await AllConsumed(consumed, produced, consumers);
            var b = Start("b");
            await Spread(consumers);
            Produce(150);
            await AllConsumed(consumed, produced, consumers);
            var c = Start("c");
            await Spread(consumers);
            Produce(150);
            await AllConsumed(consumed, produced, consumers);
            Assert.All(consumers, m => Assert.NotEmpty(m.Assignment));

            b.Close(); // leaves cleanly; its partitions move to a and c
            await Spread([a, c]);
            Produce(150);
            await AllConsumed(consumed, produced, consumers);
            a.Close();
            await Spread([c]);
            Produce(150);
            await AllConsumed(consumed, produced, consumers);
            Assert.Equal(Enumerable.Range(0, Partitions), c.Assignment);
        }
        finally
        {
            foreach (var consumer in consumers) consumer.Dispose();
        }

        Assert.All(consumers, m => Assert.Empty(m.Errors));
        var byPosition = consumed.GroupBy(r => (r.Partition, r.Offset)).ToList();
        Assert.All(byPosition, g => Assert.Single(g)); // nothing consumed twice
        Assert.Equal(Enumerable.Range(0, produced).Select(i => $"{i}").Order(), consumed.Select(r => r.Value).Order()); // nothing lost
        // Every consumer did a share of the work at some point.
        Assert.All(consumers, m => Assert.NotEmpty(m.Assignments));
    }

    [Fact]
    public async Task A_group_resumes_from_its_committed_offsets_after_the_consumer_and_the_broker_restart()
    {
        string topic = Clients.NewTopic("resume");
        string group = Clients.NewTopic("g");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        using (var producer = Clients.Producer(Bootstrap))
        {
            for (int i = 0; i < 100; i++) producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"{i}" });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"{i}"), ConsumeAndCommit(group, topic, 40));
        Assert.Equal(Enumerable.Range(40, 30).Select(i => $"{i}"), ConsumeAndCommit(group, topic, 30));

        using (var admin = Clients.Admin(Bootstrap))
        {
            var offsets = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, [new TopicPartition(topic, 0)])]);
            Assert.Equal(70, Assert.Single(Assert.Single(offsets).Partitions).Offset.Value);
        }

        _broker.Kill();
        await _broker.StartAgainAsync();
        Assert.Equal(Enumerable.Range(70, 30).Select(i => $"{i}"), ConsumeAndCommit(group, topic, 30));
    }

    [Fact]
    public async Task The_admin_client_lists_describes_and_deletes_groups()
    {
        string topic = Clients.NewTopic("admin");
        string group = Clients.NewTopic("g");
        await Clients.CreateTopicAsync(Bootstrap, topic, 4);
        var consumed = new ConcurrentQueue<(int, long, string)>();
        using var admin = Clients.Admin(Bootstrap);
        using (var one = new GroupConsumer("one", Bootstrap, group, topic, PartitionAssignmentStrategy.Range, consumed))
        using (var two = new GroupConsumer("two", Bootstrap, group, topic, PartitionAssignmentStrategy.Range, consumed))
        {
            await Spread([one, two], partitions: 4);
            var listed = await admin.ListConsumerGroupsAsync();
            var mine = Assert.Single(listed.Valid, g => g.GroupId == group);
            Assert.Equal(ConsumerGroupState.Stable, mine.State);

            var described = Assert.Single((await admin.DescribeConsumerGroupsAsync([group])).ConsumerGroupDescriptions);
            Assert.Equal(ConsumerGroupState.Stable, described.State);
            Assert.Equal("range", described.PartitionAssignor);
            Assert.Equal(["one", "two"], described.Members.Select(m => m.ClientId).Order());
            // The assignments the leader computed came back through the coordinator untouched.
            Assert.Equal(Enumerable.Range(0, 4), described.Members.SelectMany(m => m.Assignment.TopicPartitions).Select(tp => tp.Partition.Value).Order());

            var refused = await Assert.ThrowsAsync<Confluent.Kafka.Admin.DeleteGroupsException>(() => admin.DeleteGroupsAsync([group]));
            Assert.Equal(ErrorCode.NonEmptyGroup, Assert.Single(refused.Results).Error.Code);
        }
        await admin.DeleteGroupsAsync([group]);
        var after = await admin.ListConsumerGroupsAsync();
        Assert.DoesNotContain(after.Valid, g => g.GroupId == group);
    }

    [Fact]
    public async Task A_consumer_gone_without_leaving_is_expired_when_its_session_times_out_and_its_group_can_then_be_deleted()
    {
        const int sessionTimeoutMs = 6000, heartbeatIntervalMs = 500;
        string topic = Clients.NewTopic("vanish");
        string group = Clients.NewTopic("g");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        using var admin = Clients.Admin(Bootstrap);
        var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = group,
            ClientId = "vanishing",
            SessionTimeoutMs = sessionTimeoutMs,
            HeartbeatIntervalMs = heartbeatIntervalMs,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var deadline = DateTime.UtcNow + Patience;
        while (consumer.Assignment.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumer was never assigned its partition");
            consumer.Consume(TimeSpan.FromMilliseconds(100));
        }

        // Dispose without Close: librdkafka goes away without LeaveGroup, as a crashed consumer would.
        var sinceGone = System.Diagnostics.Stopwatch.StartNew();
        consumer.Dispose();
        var refused = await Assert.ThrowsAsync<Confluent.Kafka.Admin.DeleteGroupsException>(() => admin.DeleteGroupsAsync([group]));
        Assert.Equal(ErrorCode.NonEmptyGroup, Assert.Single(refused.Results).Error.Code);

        while (true)
        {
            try
            {
                await admin.DeleteGroupsAsync([group]);
                break;
            }
            catch (Confluent.Kafka.Admin.DeleteGroupsException e) when (Assert.Single(e.Results).Error.Code == ErrorCode.NonEmptyGroup)
            {
                Assert.True(sinceGone.Elapsed < Patience, $"the member never expired\n{_broker.Diagnostics()}");
                await Task.Delay(50);
            }
        }
        var elapsed = sinceGone.ElapsedMilliseconds;
        // The session ran from the last heartbeat, about one interval (two, for a late one) before the consumer went.
        Assert.True(elapsed >= sessionTimeoutMs - 2 * heartbeatIntervalMs, $"the member expired after {elapsed} ms, before its session ran out");
        Assert.Contains($"no heartbeat within session timeout {sessionTimeoutMs} ms", _broker.Output);
        var after = await admin.ListConsumerGroupsAsync();
        Assert.DoesNotContain(after.Valid, g => g.GroupId == group);
    }

    private List<string> ConsumeAndCommit(string group, string topic, int count)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var values = new List<string>();
        var deadline = DateTime.UtcNow + Patience;
        while (values.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"consumed {values.Count} of {count}");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null || result.IsPartitionEOF) continue;
            values.Add(result.Message.Value);
            if (values.Count == count) consumer.Commit(result);
        }
        consumer.Close();
        return values;
    }

    private static async Task AllConsumed(ConcurrentQueue<(int, long, string)> consumed, int count, List<GroupConsumer> consumers)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (consumed.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"consumed {consumed.Count} of {count}; errors: {string.Join("; ", consumers.SelectMany(c => c.Errors))}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the partitions are split among exactly these consumers, each holding some.</summary>
    private static async Task Spread(IReadOnlyList<GroupConsumer> members, int partitions = Partitions)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var assignments = members.Select(m => m.Assignment).ToList();
            var all = assignments.SelectMany(a => a).Order().ToList();
            if (assignments.All(a => a.Count > 0) && all.SequenceEqual(Enumerable.Range(0, partitions))) return;
            Assert.True(DateTime.UtcNow < deadline,
                $"partitions not spread over {string.Join(", ", members.Select(m => m.Name))}: {string.Join(" | ", assignments.Select(a => string.Join(",", a)))}");
            await Task.Delay(100);
        }
    }
}
