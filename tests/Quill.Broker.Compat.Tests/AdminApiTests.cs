using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The admin APIs clients and UIs call beyond topics and configs: OffsetDelete, the ACL APIs (no authorizer),
/// ElectLeaders, partition reassignments and DescribeLogDirs, against a live `quill start`. Confluent.Kafka and
/// kafkajs where they have the call; DescribeLogDirs with raw requests, since no installed client sends it.
/// </summary>
public sealed class AdminApiTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;

    [Fact]
    public async Task ApiVersions_advertises_the_admin_apis()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.ApiVersions, 3, KafkaApis.ApiVersions.Request.New()
            .SetString("ClientSoftwareName", "quill-test").SetString("ClientSoftwareVersion", "1"));
        var advertised = response.GetArray("ApiKeys")!.ToDictionary(k => (ApiKey)k.GetInt16("ApiKey"), k => (k.GetInt16("MinVersion"), k.GetInt16("MaxVersion")));
        Assert.Equal((0, 3), advertised[ApiKey.DescribeAcls]);
        Assert.Equal((0, 3), advertised[ApiKey.CreateAcls]);
        Assert.Equal((0, 3), advertised[ApiKey.DeleteAcls]);
        Assert.Equal((0, 4), advertised[ApiKey.DescribeLogDirs]);
        Assert.Equal((0, 2), advertised[ApiKey.ElectLeaders]);
        Assert.Equal((0, 0), advertised[ApiKey.AlterPartitionReassignments]);
        Assert.Equal((0, 0), advertised[ApiKey.ListPartitionReassignments]);
        Assert.Equal((0, 0), advertised[ApiKey.OffsetDelete]);
    }

    [Fact]
    public async Task Confluent_delete_consumer_group_offsets_and_it_survives_kill_9()
    {
        await using var broker = await BrokerProcess.StartAsync();
        string topic = Clients.NewTopic("offdel");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 2);
        string group = "g-" + topic;
        var p0 = new TopicPartition(topic, 0);
        var p1 = new TopicPartition(topic, 1);
        using (var admin = Clients.Admin(broker.BootstrapServers))
        {
            await admin.AlterConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitionOffsets(group,
                [new TopicPartitionOffset(p0, 5), new TopicPartitionOffset(p1, 7)])]);

            var deleted = await admin.DeleteConsumerGroupOffsetsAsync(group, [p0]);
            Assert.Equal(group, deleted.Group);
            Assert.Equal([p0], deleted.Partitions);
            Assert.Equal(new Dictionary<TopicPartition, long> { [p0] = Offset.Unset.Value, [p1] = 7 }, await CommittedAsync(admin, group, p0, p1));

            // A partition the cluster does not have is refused with UNKNOWN_TOPIC_OR_PARTITION.
            var unknown = await Assert.ThrowsAsync<DeleteConsumerGroupOffsetsException>(() =>
                admin.DeleteConsumerGroupOffsetsAsync(group, [new TopicPartition(topic, 9)]));
            Assert.Equal(ErrorCode.UnknownTopicOrPart, Assert.Single(unknown.Result.Partitions).Error.Code);
        }

        broker.Kill();
        await broker.StartAgainAsync();

        using (var admin = Clients.Admin(broker.BootstrapServers))
        {
            Assert.Equal(new Dictionary<TopicPartition, long> { [p0] = Offset.Unset.Value, [p1] = 7 }, await CommittedAsync(admin, group, p0, p1));

            // Deleting the last offset of an empty group deletes the group, as Kafka does.
            await admin.DeleteConsumerGroupOffsetsAsync(group, [p1]);
            var gone = await Assert.ThrowsAsync<KafkaException>(() => admin.DeleteConsumerGroupOffsetsAsync(group, [p1]));
            Assert.Equal(ErrorCode.GroupIdNotFound, gone.Error.Code);
        }

        broker.Kill();
        await broker.StartAgainAsync();
        using (var admin = Clients.Admin(broker.BootstrapServers))
        {
            Assert.Equal(new Dictionary<TopicPartition, long> { [p0] = Offset.Unset.Value, [p1] = Offset.Unset.Value }, await CommittedAsync(admin, group, p0, p1));
            var gone = await Assert.ThrowsAsync<KafkaException>(() => admin.DeleteConsumerGroupOffsetsAsync(group, [p0]));
            Assert.Equal(ErrorCode.GroupIdNotFound, gone.Error.Code);
        }
    }

    [Fact]
    public async Task Confluent_cannot_delete_offsets_of_a_topic_the_live_group_subscribes_to()
    {
        string subscribedTopic = Clients.NewTopic("offdel-sub");
        string otherTopic = Clients.NewTopic("offdel-other");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, subscribedTopic, 1);
        await Clients.CreateTopicAsync(_broker.BootstrapServers, otherTopic, 1);
        string group = "g-" + subscribedTopic;

        using var consumer = Clients.Consumer(_broker.BootstrapServers, c =>
        {
            c.GroupId = group;
            c.AutoOffsetReset = AutoOffsetReset.Earliest;
        });
        consumer.Subscribe(subscribedTopic);
        var deadline = DateTime.UtcNow + Clients.Timeout;
        while (consumer.Assignment.Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the consumer was not assigned its partition");
            consumer.Consume(TimeSpan.FromMilliseconds(200));
        }
        var subscribed = new TopicPartition(subscribedTopic, 0);
        var other = new TopicPartition(otherTopic, 0);
        consumer.Commit([new TopicPartitionOffset(subscribed, 3), new TopicPartitionOffset(other, 4)]);

        using var admin = Clients.Admin(_broker.BootstrapServers);
        var refused = await Assert.ThrowsAsync<DeleteConsumerGroupOffsetsException>(() => admin.DeleteConsumerGroupOffsetsAsync(group, [subscribed]));
        Assert.Equal(ErrorCode.GroupSubscribedToTopic, Assert.Single(refused.Result.Partitions).Error.Code);

        var deleted = await admin.DeleteConsumerGroupOffsetsAsync(group, [other]);
        Assert.Equal([other], deleted.Partitions);
        Assert.Equal(new Dictionary<TopicPartition, long> { [subscribed] = 3, [other] = Offset.Unset.Value }, await CommittedAsync(admin, group, subscribed, other));
        consumer.Close();

        // The group is empty now: the subscribed topic's offset can go too.
        await admin.DeleteConsumerGroupOffsetsAsync(group, [subscribed]);
        Assert.Equal(Offset.Unset.Value, (await CommittedAsync(admin, group, subscribed))[subscribed]);
    }

    [Fact]
    public async Task Confluent_delete_offsets_of_an_unknown_group_is_group_id_not_found()
    {
        string topic = Clients.NewTopic("offdel-nogroup");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var admin = Clients.Admin(_broker.BootstrapServers);
        // librdkafka reports a group-level error as a plain KafkaException.
        var e = await Assert.ThrowsAsync<KafkaException>(() =>
            admin.DeleteConsumerGroupOffsetsAsync("no-such-group-" + topic, [new TopicPartition(topic, 0)]));
        Assert.Equal(ErrorCode.GroupIdNotFound, e.Error.Code);
    }

    private static async Task<Dictionary<TopicPartition, long>> CommittedAsync(IAdminClient admin, string group, params TopicPartition[] partitions)
    {
        var result = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, [.. partitions])]);
        return Assert.Single(result).Partitions.ToDictionary(p => p.TopicPartition, p => p.Offset.Value);
    }

    [Fact]
    public async Task Confluent_acl_calls_surface_security_disabled()
    {
        const string message = "No Authorizer is configured on the broker";
        using var admin = Clients.Admin(_broker.BootstrapServers);
        var binding = new AclBinding
        {
            Pattern = new ResourcePattern { Type = Confluent.Kafka.Admin.ResourceType.Topic, Name = "t", ResourcePatternType = ResourcePatternType.Literal },
            Entry = new AccessControlEntry { Principal = "User:alice", Host = "*", Operation = AclOperation.Read, PermissionType = AclPermissionType.Allow },
        };
        var filter = new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = Confluent.Kafka.Admin.ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        };

        var create = await Assert.ThrowsAsync<CreateAclsException>(() => admin.CreateAclsAsync([binding, binding]));
        Assert.Equal(2, create.Results.Count);
        Assert.All(create.Results, r =>
        {
            Assert.Equal(ErrorCode.SecurityDisabled, r.Error.Code);
            Assert.Contains(message, r.Error.Reason);
        });

        // librdkafka drops DescribeAcls' top-level error code (it reads it and returns success with the empty
        // listing, against Kafka too), so the answer is checked on the wire below and through kafkajs.
        Assert.Empty((await admin.DescribeAclsAsync(filter)).AclBindings);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        for (short version = 0; version <= 3; version++)
        {
            var request = KafkaApis.DescribeAcls.Request.New().SetInt("ResourceTypeFilter", 1).SetInt("Operation", 1).SetInt("PermissionType", 1)
                .SetString("ResourceNameFilter", null).SetString("PrincipalFilter", null).SetString("HostFilter", null);
            var response = await connection.RequestAsync(KafkaApis.DescribeAcls, version, request);
            Assert.Equal(54, response.GetInt16("ErrorCode"));
            Assert.Equal(message, response.GetString("ErrorMessage"));
            Assert.Empty(response.GetArray("Resources")!);
        }

        var delete = await Assert.ThrowsAsync<DeleteAclsException>(() => admin.DeleteAclsAsync([filter]));
        var deleted = Assert.Single(delete.Results);
        Assert.Equal(ErrorCode.SecurityDisabled, deleted.Error.Code);
        Assert.Contains(message, deleted.Error.Reason);
        Assert.Empty(deleted.AclBindings);
    }

    [Fact]
    public async Task Confluent_elect_leaders_is_not_needed_with_one_replica()
    {
        string topic = Clients.NewTopic("elect");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 2);
        using var admin = Clients.Admin(_broker.BootstrapServers);

        // Every partition: only partitions where an election happened are listed, and none needed one.
        var all = await admin.ElectLeadersAsync(ElectionType.Preferred, null);
        Assert.Empty(all.TopicPartitions);

        foreach (var type in new[] { ElectionType.Preferred, ElectionType.Unclean })
        {
            var e = await Assert.ThrowsAsync<ElectLeadersException>(() => admin.ElectLeadersAsync(type,
                [new TopicPartition(topic, 0), new TopicPartition(topic, 1), new TopicPartition(topic, 5)]));
            var errors = e.Results.TopicPartitions.ToDictionary(p => p.Partition.Value, p => p.Error.Code);
            Assert.Equal(new Dictionary<int, ErrorCode>
            {
                [0] = ErrorCode.ElectionNotNeeded,
                [1] = ErrorCode.ElectionNotNeeded,
                [5] = ErrorCode.UnknownTopicOrPart,
            }, errors);
        }
    }

    [Fact]
    public async Task Kafkajs_partition_reassignments_and_acls()
    {
        string? nodeDir = ToolClientTests.FindUp("tests/node/node_modules/kafkajs");
        if (nodeDir is null) Assert.Fail("kafkajs is not installed: cd tests/node && npm ci");
        string topic = Clients.NewTopic("kafkajs-admin");
        var run = await ToolRunner.RunAsync("node", [Path.Combine(AppContext.BaseDirectory, "scripts", "kafkajs_admin.js"), _broker.BootstrapServers, topic],
            timeout: TimeSpan.FromSeconds(120),
            environment: new Dictionary<string, string> { ["NODE_PATH"] = Path.GetDirectoryName(nodeDir)! });
        Assert.True(run.Succeeded, run + "\n" + _broker.Diagnostics());
        using var doc = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var root = doc.RootElement;
        string Dump(string name) => $"{name}: {root.GetProperty(name)}";

        foreach (string list in new[] { "listAll", "listTopic", "listAfter" })
        {
            var result = root.GetProperty(list);
            Assert.True(result.GetProperty("ok").GetBoolean(), Dump(list));
            Assert.Equal(0, result.GetProperty("value").GetProperty("topics").GetArrayLength());
        }
        Assert.True(root.GetProperty("alterSame").GetProperty("ok").GetBoolean(), Dump("alterSame"));

        var dead = root.GetProperty("alterDeadBroker");
        Assert.False(dead.GetProperty("ok").GetBoolean(), Dump("alterDeadBroker"));
        var failed = Assert.Single(dead.GetProperty("error").GetProperty("errors").EnumerateArray());
        Assert.Equal("INVALID_REPLICA_ASSIGNMENT", failed.GetProperty("type").GetString());
        Assert.Equal(1, failed.GetProperty("partition").GetInt32());

        foreach (string call in new[] { "describeAcls", "createAcls", "deleteAcls" })
        {
            var result = root.GetProperty(call);
            Assert.False(result.GetProperty("ok").GetBoolean(), Dump(call));
            var error = result.GetProperty("error");
            var types = error.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("type").GetString()).Append(error.GetProperty("type").GetString());
            Assert.Contains("SECURITY_DISABLED", types);
        }
    }

    [Fact]
    public async Task Raw_cancelling_a_reassignment_finds_none_in_progress()
    {
        string topic = Clients.NewTopic("reassign-cancel");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var request = KafkaApis.AlterPartitionReassignments.Request.New();
        var t = request.AddElement("Topics").SetString("Name", topic);
        t.AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt32Array("Replicas", null);
        t.AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt32Array("Replicas", []);
        t.AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt32Array("Replicas", [0, 0]);
        t.AddElement("Partitions").SetInt("PartitionIndex", 3).SetInt32Array("Replicas", [0]);
        var response = await connection.RequestAsync(KafkaApis.AlterPartitionReassignments, 0, request);
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        var partitions = Assert.Single(response.GetArray("Responses")!).GetArray("Partitions")!;
        Assert.Equal([85, 39, 39, 3], partitions.Select(p => (int)p.GetInt16("ErrorCode")));
        Assert.Equal("No partition reassignment is in progress.", partitions[0].GetString("ErrorMessage"));
    }

    /// <summary>No installed client sends DescribeLogDirs (librdkafka and kafkajs lack it): raw requests, every version.</summary>
    [Fact]
    public async Task Raw_describe_log_dirs_reports_sizes_lag_and_volume_bytes()
    {
        string topic = Clients.NewTopic("logdirs");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 2);
        using (var producer = Clients.Producer(_broker.BootstrapServers))
        {
            for (int i = 0; i < 50; i++)
                producer.Produce(new TopicPartition(topic, i % 2), new Message<string, string> { Key = $"k{i}", Value = new string('x', 100 + i) });
            producer.Flush(Clients.Timeout);
        }
        string logDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(_broker.LogDir));
        long SizeOnDisk(int partition) =>
            new DirectoryInfo(Path.Combine(logDir, $"{topic}-{partition}")).GetFiles("*.log").Sum(f => f.Length);

        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        for (short version = 0; version <= 4; version++)
        {
            var request = KafkaApis.DescribeLogDirs.Request.New();
            request.AddElement("Topics").SetString("Topic", topic).SetInt32Array("Partitions", [0, 1, 5]);
            var response = await connection.RequestAsync(KafkaApis.DescribeLogDirs, version, request);
            Assert.Equal(0, response.GetInt16("ErrorCode"));
            var result = Assert.Single(response.GetArray("Results")!);
            Assert.Equal(0, result.GetInt16("ErrorCode"));
            Assert.Equal(logDir, result.GetString("LogDir"));

            var topics = result.GetArray("Topics")!;
            var ours = Assert.Single(topics, t => t.GetString("Name") == topic);
            // As in Kafka, the dir's other topics are listed too, without the partitions nobody asked for.
            Assert.All(topics.Where(t => t != ours), t => Assert.Empty(t.GetArray("Partitions")!));
            var partitions = ours.GetArray("Partitions")!;
            Assert.Equal([0, 1], partitions.Select(p => p.GetInt32("PartitionIndex")).Order());
            foreach (var p in partitions)
            {
                long size = p.GetInt64("PartitionSize");
                Assert.True(size > 2500, $"partition {p.GetInt32("PartitionIndex")} size {size}");
                Assert.Equal(SizeOnDisk(p.GetInt32("PartitionIndex")), size);
                Assert.Equal(0, p.GetInt64("OffsetLag"));
                Assert.False(p.GetBool("IsFutureKey"));
            }

            if (version >= 4)
            {
                var (total, available) = await StatFsAsync(logDir);
                Assert.Equal(total, result.GetInt64("TotalBytes"));
                long usable = result.GetInt64("UsableBytes");
                Assert.True(Math.Abs(usable - available) < 256L * 1024 * 1024, $"usable {usable} vs statfs {available}");
            }
            else
            {
                Assert.Equal(-1, result.GetInt64("TotalBytes")); // not on the wire before v4: the default
            }
        }

        // Null topics: every partition of every log.
        var all = await connection.RequestAsync(KafkaApis.DescribeLogDirs, 2, KafkaApis.DescribeLogDirs.Request.New().SetArray("Topics", null));
        var everything = Assert.Single(all.GetArray("Results")!).GetArray("Topics")!;
        Assert.Equal([0, 1], Assert.Single(everything, t => t.GetString("Name") == topic).GetArray("Partitions")!.Select(p => p.GetInt32("PartitionIndex")).Order());
    }

    /// <summary>The volume's total and available bytes as `stat -f` (statfs) reports them.</summary>
    private static async Task<(long Total, long Available)> StatFsAsync(string path)
    {
        var run = await ToolRunner.RunAsync("stat", ["-f", "-c", "%S %b %a", path]);
        Assert.True(run.Succeeded, run.ToString());
        long[] f = run.StdOut.Trim().Split(' ').Select(long.Parse).ToArray();
        return (f[0] * f[1], f[0] * f[2]);
    }
}
