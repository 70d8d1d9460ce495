using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol.Messages;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Partition reassignment on three `quill broker start` processes, asked with kafkajs (librdkafka has no
/// AlterPartitionReassignments) and checked in Keeper (kazoo), in each broker's own segment files and with Confluent.Kafka:
/// a partition moves off its leader's broker onto another with every record, the old copy is deleted, and a move that
/// cannot finish is listed with its adding and removing replicas until it is cancelled.
/// </summary>
public sealed class ReassignmentTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static async Task<BrokerCluster> StartClusterAsync(int sessionTimeoutMs = BrokerCluster.SessionTimeoutMs)
    {
        var cluster = await BrokerCluster.StartAsync(3, new Dictionary<string, string>
        {
            ["replica.lag.time.max.ms"] = "3000", ["zookeeper.session.timeout.ms"] = $"{sessionTimeoutMs}",
        });
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        return cluster;
    }

    private static async Task<string> CreateTopicAsync(BrokerCluster cluster, int[] replicas)
    {
        string topic = Clients.NewTopic("reassign");
        using var admin = Clients.Admin(cluster.BootstrapServers);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [.. replicas] } }]);
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == replicas[0] && s.Isr.Length == replicas.Length, Deadline, "its first replica leading, all in sync");
        return topic;
    }

    private static async Task<JsonElement> KafkajsAsync(BrokerCluster cluster, params string[] args)
    {
        string? nodeDir = ToolClientTests.FindUp("tests/node/node_modules/kafkajs");
        if (nodeDir is null) Assert.Fail("kafkajs is not installed: cd tests/node && npm ci");
        var run = await ToolRunner.RunAsync("node", [Path.Combine(AppContext.BaseDirectory, "scripts", "kafkajs_reassign.js"), cluster.BootstrapServers, .. args],
            timeout: TimeSpan.FromSeconds(120), environment: new Dictionary<string, string> { ["NODE_PATH"] = Path.GetDirectoryName(nodeDir)! });
        Assert.True(run.Succeeded, $"{run}\n{cluster.Diagnostics()}");
        return JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    /// <summary>The topic node's replicas, adding_replicas and removing_replicas of partition 0, read with kazoo.</summary>
    private static async Task<string> TopicNodeAsync(BrokerCluster cluster, string topic) => await cluster.KazooAsync("""
        import sys, json
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
        t = json.loads(zk.get('/brokers/topics/' + sys.argv[2])[0])
        print(t['partitions']['0'], t.get('adding_replicas', {}).get('0', []), t.get('removing_replicas', {}).get('0', []))
        zk.stop()
        """, topic);

    [Fact]
    public async Task a_partition_moves_off_its_leaders_broker_with_every_record_and_the_old_copy_is_deleted()
    {
        await using var cluster = await StartClusterAsync();
        string topic = await CreateTopicAsync(cluster, [1, 2]);
        var values = Enumerable.Range(0, 200).Select(i => $"v{i}").ToList();
        using (var producer = Clients.Producer(cluster.BootstrapServers, c => c.Acks = Acks.All))
        {
            foreach (string value in values) producer.Produce(topic, new Message<string, string> { Key = "k", Value = value });
            producer.Flush(TimeSpan.FromSeconds(60));
        }
        var before = await cluster.PartitionStateAsync(topic, 0);

        var altered = await KafkajsAsync(cluster, "alter", topic, "0", "3,2");
        Assert.True(altered.GetProperty("ok").GetBoolean(), altered.ToString());

        // Broker 3 copies the log, joins the ISR, and the controller finishes: replicas [3,2], leader 3 (1 is gone) in a new epoch.
        var after = await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Isr.Order().SequenceEqual([2, 3]) && s.Leader == 3, Deadline,
            "ISR [2,3] led by 3");
        Assert.True(after.LeaderEpoch > before.LeaderEpoch);
        Assert.Equal("[3, 2] [] []", await TopicNodeAsync(cluster, topic));
        var listed = await KafkajsAsync(cluster, "list", topic);
        Assert.True(listed.GetProperty("ok").GetBoolean(), listed.ToString());
        Assert.Equal(0, listed.GetProperty("value").GetProperty("topics").GetArrayLength());
        using (var admin = Clients.Admin(cluster.BootstrapServers))
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (true)
            {
                var described = (await Clients.DescribeTopicAsync(admin, topic)).Partitions.Single();
                if (described.Replicas.Select(r => r.Id).SequenceEqual([3, 2]) && described.Leader?.Id == 3) break;
                Assert.True(DateTime.UtcNow < deadline, $"metadata never showed replicas [3,2] led by 3\n{cluster.Diagnostics()}");
                await Task.Delay(250);
            }
        }

        // The new replica holds every record at the same offsets; the old one is deleted from broker 1's disk.
        var expected = values.Select((v, i) => ((long)i, v)).ToList();
        await WaitUntilAsync(() => BrokerCluster.ReplicaRecords(cluster.Brokers[3], topic, 0).SequenceEqual(expected), "broker 3 holding all 200 records", cluster);
        Assert.Equal(expected, BrokerCluster.ReplicaRecords(cluster.Brokers[2], topic, 0));
        await WaitUntilAsync(() => !Directory.Exists(Path.Combine(cluster.Brokers[1].Directory, "kafka-logs", $"{topic}-0")), "broker 1's copy deleted", cluster);

        // Clients follow: produce to the new leader, read everything back.
        using (var producer = Clients.Producer(cluster.BootstrapServers, c => c.Acks = Acks.All))
            Assert.Equal(200, (await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "moved" })).Offset.Value);
        Assert.Equal([.. values, "moved"], Clients.ConsumeFromStart(cluster.BootstrapServers, topic, 1, values.Count + 1).Select(r => r.Message.Value));
    }

    [Fact]
    public async Task a_move_that_cannot_finish_is_listed_with_its_adding_and_removing_replicas_until_cancelled()
    {
        // The longest session Keeper grants at this tick (20 ticks): the paused broker must still count as live when
        // the move is asked for, a moment after the pause, however busy the machine.
        await using var cluster = await StartClusterAsync(sessionTimeoutMs: 10_000);
        int controller = (await cluster.ControllerInKeeperAsync()).Controller;
        // The broker to move onto is paused the moment before the move starts, so it never catches up and the move
        // stays in progress (it is not the controller, which must answer).
        int paused = cluster.Brokers.Keys.First(id => id != controller);
        int[] origin = [.. cluster.Brokers.Keys.Where(id => id != paused)];
        string topic = await CreateTopicAsync(cluster, origin);
        BrokerCluster.Signal(cluster.Brokers[paused], pause: true);
        try
        {
            using var raw = await RawKafkaConnection.ConnectAsync(cluster.Brokers[controller].KafkaPort);
            Assert.Equal(0, await ReassignRawAsync(raw, topic, [origin[0], paused]));
            var listed = await ListRawAsync(raw);
            var moving = Assert.Single(listed, p => p.Topic == topic);
            Assert.Equal([origin[0], paused, origin[1]], moving.Replicas);
            Assert.Equal([paused], moving.Adding);
            Assert.Equal([origin[1]], moving.Removing);
            Assert.Equal($"[{origin[0]}, {paused}, {origin[1]}] [{paused}] [{origin[1]}]", await TopicNodeAsync(cluster, topic));

            // Another broker refuses (NOT_CONTROLLER); the controller cancels: back to the origin, nothing in progress, the leader kept.
            using (var wrong = await RawKafkaConnection.ConnectAsync(cluster.Brokers[origin.First(id => id != controller)].KafkaPort))
            {
                var refused = await wrong.RequestAsync(KafkaApis.AlterPartitionReassignments, 0, ReassignRequest(topic, null));
                Assert.Equal((short)Quill.Kafka.Protocol.KafkaError.NotController, refused.GetInt16("ErrorCode"));
            }
            Assert.Equal(0, await ReassignRawAsync(raw, topic, null));
            Assert.Equal($"[{origin[0]}, {origin[1]}] [] []", await TopicNodeAsync(cluster, topic));
            Assert.DoesNotContain(await ListRawAsync(raw), p => p.Topic == topic);
            Assert.Equal((short)Quill.Kafka.Protocol.KafkaError.NoReassignmentInProgress, await ReassignRawAsync(raw, topic, null));
            var state = await cluster.PartitionStateAsync(topic, 0);
            Assert.Equal(origin[0], state.Leader);
            Assert.Equal(origin.Order(), state.Isr.Order());
        }
        finally
        {
            BrokerCluster.Signal(cluster.Brokers[paused], pause: false);
        }
        var empty = await KafkajsAsync(cluster, "list", topic);
        Assert.True(empty.GetProperty("ok").GetBoolean(), empty.ToString());
        Assert.Equal(0, empty.GetProperty("value").GetProperty("topics").GetArrayLength());
    }

    [Fact]
    public async Task quill_reassign_partitions_generates_executes_and_verifies_a_move_as_kafka_reassign_partitions_does()
    {
        await using var cluster = await StartClusterAsync();
        string topic = Clients.NewTopic("reassign-tool");
        using (var admin = Clients.Admin(cluster.BootstrapServers))
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [1, 2], [1] = [2, 1] } }]);
        await cluster.WaitForPartitionStateAsync(topic, 1, s => s.Leader == 2 && s.Isr.Length == 2, Deadline, "broker 2 leading, both in sync");
        string dir = Path.Combine(cluster.Brokers[1].Directory, "tool");
        Directory.CreateDirectory(dir);
        string toMove = Path.Combine(dir, "topics.json"), plan = Path.Combine(dir, "plan.json");
        await File.WriteAllTextAsync(toMove, $$"""{"topics":[{"topic":"{{topic}}"}],"version":1}""");

        var generated = await QuillAsync(cluster, "--generate", "--topics-to-move-json-file", toMove, "--broker-list", "2,3");
        var lines = generated.StdOut.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Current partition replica assignment", lines[0]);
        Assert.Equal("Proposed partition reassignment configuration", lines[2]);
        var proposed = JsonDocument.Parse(lines[3]).RootElement.GetProperty("partitions").EnumerateArray()
            .ToDictionary(p => p.GetProperty("partition").GetInt32(), p => p.GetProperty("replicas").EnumerateArray().Select(r => r.GetInt32()).ToArray());
        Assert.Equal([0, 1], proposed.Keys.Order());
        Assert.All(proposed.Values, r => Assert.Equal([2, 3], r.Order()));
        await File.WriteAllTextAsync(plan, lines[3]);

        var executed = await QuillAsync(cluster, "--execute", "--reassignment-json-file", plan);
        Assert.Contains($"Successfully started partition reassignments for {topic}-0,{topic}-1", executed.StdOut);
        Assert.Contains($$"""{"topic":"{{topic}}","partition":0,"replicas":[1,2]""", executed.StdOut); // the rollback plan

        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var verified = await QuillAsync(cluster, "--verify", "--reassignment-json-file", plan);
            if (verified.StdOut.Contains($"Reassignment of partition {topic}-0 is completed.") && verified.StdOut.Contains($"Reassignment of partition {topic}-1 is completed."))
                break;
            Assert.True(DateTime.UtcNow < deadline, $"the move never completed: {verified.StdOut}\n{cluster.Diagnostics()}");
            await Task.Delay(500);
        }
        Assert.Equal("No partition reassignments found.", (await QuillAsync(cluster, "--list")).StdOut.Trim());
        foreach (var (partition, replicas) in proposed)
            Assert.Equal($"[{string.Join(", ", replicas)}] [] []", await PartitionNodeAsync(cluster, topic, partition));

        // A topics file given as a plan is refused with what a plan looks like.
        var bad = await ToolRunner.RunAsync(Dotnet, [KeeperProcess.QuillDll, "reassign-partitions", "--bootstrap-server", cluster.BootstrapServers, "--execute",
            "--reassignment-json-file", toMove]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("expected {\"version\":1,\"partitions\":[", bad.StdErr);
    }

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static async Task<ToolResult> QuillAsync(BrokerCluster cluster, params string[] args)
    {
        var result = await ToolRunner.RunAsync(Dotnet, [KeeperProcess.QuillDll, "reassign-partitions", "--bootstrap-server", cluster.BootstrapServers, .. args],
            timeout: TimeSpan.FromSeconds(90));
        Assert.True(result.Succeeded, $"{result}\n{cluster.Diagnostics()}");
        return result;
    }

    /// <summary>One partition's replicas, adding and removing lists in the topic's node.</summary>
    private static async Task<string> PartitionNodeAsync(BrokerCluster cluster, string topic, int partition) => await cluster.KazooAsync("""
        import sys, json
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
        t = json.loads(zk.get('/brokers/topics/' + sys.argv[2])[0])
        p = sys.argv[3]
        print(t['partitions'][p], t.get('adding_replicas', {}).get(p, []), t.get('removing_replicas', {}).get(p, []))
        zk.stop()
        """, topic, $"{partition}");

    private static async Task<List<(string Topic, int[] Replicas, int[] Adding, int[] Removing)>> ListRawAsync(RawKafkaConnection raw)
    {
        var request = KafkaApis.ListPartitionReassignments.Request.New();
        request.SetArray("Topics", null);
        var response = await raw.RequestAsync(KafkaApis.ListPartitionReassignments, 0, request);
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        return [.. response.GetArray("Topics")!.SelectMany(t => t.GetArray("Partitions")!.Select(p =>
            (t.GetString("Name")!, p.GetInt32Array("Replicas")!, p.GetInt32Array("AddingReplicas")!, p.GetInt32Array("RemovingReplicas")!)))];
    }

    private static Quill.Kafka.Protocol.Schema.StructValue ReassignRequest(string topic, int[]? replicas)
    {
        var request = KafkaApis.AlterPartitionReassignments.Request.New();
        request.AddElement("Topics").SetString("Name", topic).AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt32Array("Replicas", replicas);
        return request;
    }

    /// <summary>One partition's AlterPartitionReassignments error code (the top-level one must be none).</summary>
    private static async Task<short> ReassignRawAsync(RawKafkaConnection raw, string topic, int[]? replicas)
    {
        var response = await raw.RequestAsync(KafkaApis.AlterPartitionReassignments, 0, ReassignRequest(topic, replicas));
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        return Assert.Single(Assert.Single(response.GetArray("Responses")!).GetArray("Partitions")!).GetInt16("ErrorCode");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, BrokerCluster cluster)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"never saw {what}\n{cluster.Diagnostics()}");
            await Task.Delay(250);
        }
    }
}
