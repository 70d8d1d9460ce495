using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Metadata that changes under a running broker: its Keeper session expiring, configs and partitions written straight
/// into Keeper by another tool (kazoo here, as Kafka's ZooKeeper-mode tools did), and dynamic broker configs set
/// through the admin API (Confluent.Kafka). Each must take effect without a restart, and survive one.
/// </summary>
public sealed class MetadataChangeTests
{
    [Fact]
    public async Task Broker_registers_again_and_keeps_serving_after_its_keeper_session_expires()
    {
        await using var broker = await BrokerProcess.StartAsync();
        string before = Clients.NewTopic("before-expiry");
        await Clients.CreateTopicAsync(broker.BootstrapServers, before, 1);
        await ProduceAsync(broker, before, 0, 10);

        // Attach to the broker's own session (its id and password are in its log dir) and close it, the classic way to
        // expire a ZooKeeper session on purpose: its ephemerals (/brokers/ids/0, /controller) are deleted at once.
        var session = File.ReadAllText(Path.Combine(broker.LogDir, ".keeper-session")).Trim().Split(' ');
        var expire = await ToolRunner.RunKazooAsync("""
            import sys, time
            from kazoo.client import KazooClient
            hosts, sid, pwd = sys.argv[1], int(sys.argv[2], 16), bytes.fromhex(sys.argv[3])
            thief = KazooClient(hosts=hosts, client_id=(sid, pwd))
            thief.start(timeout=30)
            assert thief.client_id[0] == sid, "did not attach to the broker's session"
            thief.stop(); thief.close()
            zk = KazooClient(hosts=hosts); zk.start(timeout=30)
            deadline = time.time() + 60
            while time.time() < deadline:
                broker, controller = zk.exists('/brokers/ids/0'), zk.exists('/controller')
                if broker and controller and broker.ephemeralOwner != sid and controller.ephemeralOwner != sid:
                    print('registered again'); break
                time.sleep(0.2)
            else:
                print('still not registered again after 60 s'); sys.exit(1)
            zk.stop()
            """, broker.KeeperConnect, session[0], session[1]);
        Assert.True(expire.ExitCode == 0, $"{expire}\n{broker.Diagnostics()}");
        Assert.True(broker.IsRunning, broker.Diagnostics());

        // The old topic is still served, and the controller works on the new session (a topic created after it).
        await ProduceAsync(broker, before, 10, 10);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"{i}"),
            Clients.ConsumeFromStart(broker.BootstrapServers, before, 1, 20).Select(r => r.Message.Value));
        string after = Clients.NewTopic("after-expiry");
        await Clients.CreateTopicAsync(broker.BootstrapServers, after, 2);
        await ProduceAsync(broker, after, 0, 5);
        Assert.Equal(5, Clients.ConsumeFromStart(broker.BootstrapServers, after, 2, 5).Count);

        // The session file names the new session, so a kill -9 now re-attaches to it and starts at once.
        var renewed = File.ReadAllText(Path.Combine(broker.LogDir, ".keeper-session")).Trim().Split(' ');
        Assert.NotEqual(session[0], renewed[0]);
    }

    [Fact]
    public async Task Topic_config_written_into_keeper_with_a_change_notification_takes_effect()
    {
        await using var broker = await BrokerProcess.StartAsync();
        string topic = Clients.NewTopic("zk-config");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1);

        var write = await ToolRunner.RunKazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            topic = sys.argv[2]
            zk.set('/config/topics/' + topic, json.dumps({"version": 1, "config": {"max.message.bytes": "2000"}}).encode())
            zk.create('/config/changes/config_change_', json.dumps({"version": 2, "entity_path": "topics/" + topic}).encode(), sequence=True)
            zk.stop()
            """, broker.KeeperConnect, topic);
        Assert.True(write.ExitCode == 0, write.ToString());

        using var admin = Clients.Admin(broker.BootstrapServers);
        var entry = await EventuallyAsync(async () =>
        {
            var described = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }]);
            var e = described[0].Entries["max.message.bytes"];
            return e.Value == "2000" ? e : null;
        }, broker);
        Assert.Equal(ConfigSource.DynamicTopicConfig, entry.Source);

        // The log enforces it: a 5000-byte record is refused, a small one is not.
        using var producer = Clients.Producer(broker.BootstrapServers);
        var tooBig = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = new string('x', 5000) }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, tooBig.Error.Code);
        var small = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "fits" });
        Assert.Equal(PersistenceStatus.Persisted, small.Status);
    }

    [Fact]
    public async Task Partitions_added_by_writing_the_topic_node_are_served()
    {
        await using var broker = await BrokerProcess.StartAsync();
        string topic = Clients.NewTopic("zk-partitions");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1);

        var grow = await ToolRunner.RunKazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            path = '/brokers/topics/' + sys.argv[2]
            data, _ = zk.get(path)
            assignment = json.loads(data)
            assignment["partitions"]["1"] = [0]
            assignment["partitions"]["2"] = [0]
            zk.set(path, json.dumps(assignment).encode())
            zk.stop()
            """, broker.KeeperConnect, topic);
        Assert.True(grow.ExitCode == 0, grow.ToString());

        // Polled through Metadata (bounded by its own timeout): DescribeTopics polled in a loop once never completed.
        using var admin = Clients.Admin(broker.BootstrapServers);
        await EventuallyAsync(() =>
        {
            var partitions = admin.GetMetadata(topic, Clients.Timeout).Topics.Single().Partitions;
            return Task.FromResult(partitions.Count == 3 && partitions.All(p => p.Leader == 0) ? partitions : null);
        }, broker);
        await ProduceAsync(broker, topic, 0, 3, partition: 2);
        var consumed = Clients.Consume(broker.BootstrapServers, [new TopicPartitionOffset(topic, 2, Offset.Beginning)], 3);
        Assert.Equal(["0", "1", "2"], consumed.Select(r => r.Message.Value));
    }

    [Fact]
    public async Task Dynamic_broker_configs_set_through_the_admin_api_take_effect_and_survive_a_restart()
    {
        await using var broker = await BrokerProcess.StartAsync();
        string topic = Clients.NewTopic("dynamic-broker");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1);
        var self = new ConfigResource { Type = ResourceType.Broker, Name = "0" };

        using (var admin = Clients.Admin(broker.BootstrapServers))
        {
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [self] =
                [
                    new ConfigEntry { Name = "message.max.bytes", Value = "3000", IncrementalOperation = AlterConfigOpType.Set },
                    new ConfigEntry { Name = "log.retention.ms", Value = "7200000", IncrementalOperation = AlterConfigOpType.Set },
                ],
            });

            var brokerConfigs = (await admin.DescribeConfigsAsync([self]))[0].Entries;
            Assert.Equal("3000", brokerConfigs["message.max.bytes"].Value);
            Assert.Equal(ConfigSource.DynamicBrokerConfig, brokerConfigs["message.max.bytes"].Source);
            Assert.Equal("7200000", brokerConfigs["log.retention.ms"].Value);
            Assert.Equal(ConfigSource.DynamicBrokerConfig, brokerConfigs["log.retention.ms"].Source);

            // A topic without its own override follows the broker's dynamic defaults.
            var topicConfigs = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }]))[0].Entries;
            Assert.Equal("3000", topicConfigs["max.message.bytes"].Value);
            Assert.Equal(ConfigSource.DynamicBrokerConfig, topicConfigs["max.message.bytes"].Source);
            Assert.Equal("7200000", topicConfigs["retention.ms"].Value);

            // Static configs and bad values are refused with INVALID_CONFIG, and nothing changes.
            var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(
                new Dictionary<ConfigResource, List<ConfigEntry>>
                {
                    [self] = [new ConfigEntry { Name = "broker.id", Value = "7", IncrementalOperation = AlterConfigOpType.Set }],
                }));
            Assert.Equal(ErrorCode.InvalidConfig, refused.Results[0].Error.Code);
            var badValue = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(
                new Dictionary<ConfigResource, List<ConfigEntry>>
                {
                    [self] = [new ConfigEntry { Name = "log.segment.bytes", Value = "lots", IncrementalOperation = AlterConfigOpType.Set }],
                }));
            Assert.Equal(ErrorCode.InvalidConfig, badValue.Results[0].Error.Code);
        }

        await AssertTooLargeAsync(broker, topic);

        // Kept in Keeper (/config/brokers/0), so a restarted broker applies it before it serves anything.
        broker.Kill();
        await broker.StartAgainAsync();
        await AssertTooLargeAsync(broker, topic);

        using (var admin = Clients.Admin(broker.BootstrapServers))
        {
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [self] = [new ConfigEntry { Name = "message.max.bytes", IncrementalOperation = AlterConfigOpType.Delete }],
            });
        }
        using var producer = Clients.Producer(broker.BootstrapServers);
        var delivered = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = new string('x', 5000) });
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
    }

    private static async Task AssertTooLargeAsync(BrokerProcess broker, string topic)
    {
        using var producer = Clients.Producer(broker.BootstrapServers);
        var tooBig = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = new string('x', 5000) }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, tooBig.Error.Code);
    }

    private static async Task ProduceAsync(BrokerProcess broker, string topic, int first, int count, int partition = 0)
    {
        using var producer = Clients.Producer(broker.BootstrapServers);
        for (int i = first; i < first + count; i++)
            await producer.ProduceAsync(new TopicPartition(topic, partition), new Message<string, string> { Key = "k", Value = $"{i}" });
    }

    /// <summary>Polls until <paramref name="probe"/> returns non-null (the broker applies watched changes asynchronously).</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, BrokerProcess broker) where T : class
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (await probe() is { } value) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the change was not applied within 30 s\n{broker.Diagnostics()}");
            await Task.Delay(200);
        }
    }
}
