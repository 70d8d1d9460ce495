using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The non-incremental AlterConfigs API (33), as Confluent.Kafka and confluent-kafka-python send it: the set given
/// replaces the topic's whole override set (keys not named return to their defaults), validate-only changes nothing,
/// bad keys and values are INVALID_CONFIG with a message, an unknown topic UNKNOWN_TOPIC_OR_PARTITION.
/// </summary>
public sealed class AlterConfigsTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;
    private string Bootstrap => _broker.BootstrapServers;

    [Fact]
    public async Task Confluent_admin_alter_configs_replaces_the_whole_set_and_it_takes_effect()
    {
        string topic = Clients.NewTopic("alter");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1, new() { ["retention.ms"] = "123456", ["cleanup.policy"] = "compact" });
        using var admin = Clients.Admin(Bootstrap);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

        await AlterAsync(admin, resource, new() { ["retention.ms"] = "1000" }, validateOnly: true);
        var entries = await DescribeAsync(admin, resource);
        Assert.Equal(("123456", ConfigSource.DynamicTopicConfig), entries["retention.ms"]);
        Assert.Equal(("compact", ConfigSource.DynamicTopicConfig), entries["cleanup.policy"]);

        await AlterAsync(admin, resource, new() { ["retention.ms"] = "3600000", ["max.message.bytes"] = "2000" });
        entries = await DescribeAsync(admin, resource);
        Assert.Equal(("3600000", ConfigSource.DynamicTopicConfig), entries["retention.ms"]);
        Assert.Equal(("2000", ConfigSource.DynamicTopicConfig), entries["max.message.bytes"]);
        Assert.Equal(("delete", ConfigSource.DefaultConfig), entries["cleanup.policy"]); // not named: back to the default

        // max.message.bytes=2000 is enforced on produce; a small message still goes in.
        using (var producer = Clients.Producer(Bootstrap))
        {
            var tooBig = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
                producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = new string('x', 5000) }));
            Assert.Equal(ErrorCode.MsgSizeTooLarge, tooBig.Error.Code);
            var small = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "small" });
            Assert.Equal(0, small.Offset.Value);
        }

        // An empty set removes every override.
        await AlterAsync(admin, resource, []);
        entries = await DescribeAsync(admin, resource);
        Assert.DoesNotContain(entries, e => e.Value.Source == ConfigSource.DynamicTopicConfig);
        using (var producer = Clients.Producer(Bootstrap))
        {
            var big = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = new string('x', 5000) });
            Assert.Equal(PersistenceStatus.Persisted, big.Status);
        }
    }

    [Fact]
    public async Task Confluent_admin_alter_configs_refusals_carry_kafkas_errors_and_change_nothing()
    {
        string topic = Clients.NewTopic("alter-refused");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1, new() { ["retention.ms"] = "123456" });
        using var admin = Clients.Admin(Bootstrap);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

        var unknownKey = await Assert.ThrowsAsync<AlterConfigsException>(() =>
            AlterAsync(admin, resource, new() { ["retention.ms"] = "5", ["no.such.config"] = "1" }));
        Assert.Equal(ErrorCode.InvalidConfig, unknownKey.Results[0].Error.Code);
        Assert.Contains("no.such.config", unknownKey.Results[0].Error.Reason);

        var badValue = await Assert.ThrowsAsync<AlterConfigsException>(() => AlterAsync(admin, resource, new() { ["retention.ms"] = "soon" }));
        Assert.Equal(ErrorCode.InvalidConfig, badValue.Results[0].Error.Code);
        Assert.Contains("retention.ms", badValue.Results[0].Error.Reason);

        var badValidateOnly = await Assert.ThrowsAsync<AlterConfigsException>(() =>
            AlterAsync(admin, resource, new() { ["max.message.bytes"] = "-7" }, validateOnly: true));
        Assert.Equal(ErrorCode.InvalidConfig, badValidateOnly.Results[0].Error.Code);

        Assert.Equal(("123456", ConfigSource.DynamicTopicConfig), (await DescribeAsync(admin, resource))["retention.ms"]);

        var missing = new ConfigResource { Type = ResourceType.Topic, Name = topic + "-missing" };
        var unknownTopic = await Assert.ThrowsAsync<AlterConfigsException>(() => AlterAsync(admin, missing, new() { ["retention.ms"] = "1" }));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, unknownTopic.Results[0].Error.Code);
    }

    [Fact]
    public async Task Confluent_admin_alter_configs_answers_each_resource_of_a_request_on_its_own()
    {
        string good = Clients.NewTopic("alter-good"), bad = Clients.NewTopic("alter-bad");
        await Clients.CreateTopicAsync(Bootstrap, good, 1);
        await Clients.CreateTopicAsync(Bootstrap, bad, 1, new() { ["retention.ms"] = "777" });
        using var admin = Clients.Admin(Bootstrap);
        var goodResource = new ConfigResource { Type = ResourceType.Topic, Name = good };
        var badResource = new ConfigResource { Type = ResourceType.Topic, Name = bad };
#pragma warning disable CS0618 // AlterConfigsAsync is obsolete in the client, but it is the API under test
        var failure = await Assert.ThrowsAsync<AlterConfigsException>(() => admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [goodResource] = [new ConfigEntry { Name = "retention.ms", Value = "86400000" }],
            [badResource] = [new ConfigEntry { Name = "retention.ms", Value = "-5" }],
        }));
#pragma warning restore CS0618
        Assert.Equal(ErrorCode.NoError, failure.Results.Single(r => r.ConfigResource.Name == good).Error.Code);
        Assert.Equal(ErrorCode.InvalidConfig, failure.Results.Single(r => r.ConfigResource.Name == bad).Error.Code);
        Assert.Equal("86400000", (await DescribeAsync(admin, goodResource))["retention.ms"].Value);
        Assert.Equal("777", (await DescribeAsync(admin, badResource))["retention.ms"].Value);
    }

    [Fact]
    public async Task Confluent_admin_alter_configs_replaces_a_brokers_dynamic_configs()
    {
        string topic = Clients.NewTopic("alter-broker");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        using var admin = Clients.Admin(Bootstrap);
        var self = new ConfigResource { Type = ResourceType.Broker, Name = "0" };
        var topicResource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        try
        {
            await AlterAsync(admin, self, new() { ["log.retention.ms"] = "7200000", ["num.io.threads"] = "4" });
            Assert.Equal(("7200000", ConfigSource.DynamicBrokerConfig), (await DescribeAsync(admin, self))["log.retention.ms"]);
            // A topic without its own retention follows the broker's.
            Assert.Equal(("7200000", ConfigSource.DynamicBrokerConfig), (await DescribeAsync(admin, topicResource))["retention.ms"]);

            await AlterAsync(admin, self, new() { ["num.io.threads"] = "4" }); // log.retention.ms not named: no longer dynamic
            Assert.NotEqual(ConfigSource.DynamicBrokerConfig, (await DescribeAsync(admin, self))["log.retention.ms"].Source);
            Assert.NotEqual("7200000", (await DescribeAsync(admin, topicResource))["retention.ms"].Value);

            var staticKey = await Assert.ThrowsAsync<AlterConfigsException>(() => AlterAsync(admin, self, new() { ["broker.id"] = "7" }));
            Assert.Equal(ErrorCode.InvalidConfig, staticKey.Results[0].Error.Code);
        }
        finally
        {
            await AlterAsync(admin, self, []); // the other tests of this broker expect no dynamic broker configs
        }
    }

    [Fact]
    public async Task Confluent_kafka_python_alter_configs_validates_replaces_and_refuses()
    {
        if (!File.Exists(ToolRunner.Python)) Assert.Fail($"{ToolRunner.Python} not found: apt-get install python3 python3-confluent-kafka");
        string topic = Clients.NewTopic("py-alter");
        var run = await ToolRunner.RunAsync(ToolRunner.Python,
            [Path.Combine(AppContext.BaseDirectory, "scripts", "python_alter_configs.py"), Bootstrap, topic], timeout: TimeSpan.FromSeconds(120));
        if (run.StdErr.Contains("No module named 'confluent_kafka'"))
            Assert.Fail($"confluent_kafka is missing: apt-get install python3-confluent-kafka\n{run}");
        Assert.True(run.Succeeded, run + "\n" + _broker.Diagnostics());
        using var doc = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var root = doc.RootElement;
        string Entry(string state, string key) =>
            $"{root.GetProperty(state).GetProperty(key).GetProperty("value").GetString()} {root.GetProperty(state).GetProperty(key).GetProperty("source").GetString()}";

        Assert.Equal(JsonValueKind.Null, root.GetProperty("validateOnly").ValueKind);
        Assert.Equal("123456 DYNAMIC_TOPIC_CONFIG", Entry("afterValidateOnly", "retention.ms"));
        Assert.Equal("compact DYNAMIC_TOPIC_CONFIG", Entry("afterValidateOnly", "cleanup.policy"));

        Assert.Equal(JsonValueKind.Null, root.GetProperty("replace").ValueKind);
        Assert.Equal("3600000 DYNAMIC_TOPIC_CONFIG", Entry("afterReplace", "retention.ms"));
        Assert.Equal("2000 DYNAMIC_TOPIC_CONFIG", Entry("afterReplace", "max.message.bytes"));
        Assert.Equal("delete DEFAULT_CONFIG", Entry("afterReplace", "cleanup.policy"));

        foreach (var (refusal, mentions) in new[] { ("unknownKey", "no.such.config"), ("badValue", "retention.ms"), ("badValueValidateOnly", "max.message.bytes") })
        {
            Assert.Equal("INVALID_CONFIG", root.GetProperty(refusal).GetProperty("name").GetString());
            Assert.Contains(mentions, root.GetProperty(refusal).GetProperty("message").GetString());
        }
        Assert.Equal("3600000 DYNAMIC_TOPIC_CONFIG", Entry("afterRefusals", "retention.ms"));
        Assert.Equal("2000 DYNAMIC_TOPIC_CONFIG", Entry("afterRefusals", "max.message.bytes"));
        Assert.Equal("UNKNOWN_TOPIC_OR_PART", root.GetProperty("unknownTopic").GetProperty("name").GetString());
    }

    [Fact]
    public async Task The_deprecated_message_format_version_is_taken_kept_and_described_as_kafka_3_does()
    {
        string topic = Clients.NewTopic("format");
        using var admin = Clients.Admin(Bootstrap);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        await Clients.CreateTopicAsync(Bootstrap, topic, 1, new() { ["message.format.version"] = "2.8" });
        Assert.Equal(("2.8", ConfigSource.DynamicTopicConfig), (await DescribeAsync(admin, resource))["message.format.version"]);

        await AlterAsync(admin, resource, new() { ["message.format.version"] = "0.10.2-IV0", ["retention.ms"] = "3600000" });
        var entries = await DescribeAsync(admin, resource);
        Assert.Equal(("0.10.2-IV0", ConfigSource.DynamicTopicConfig), entries["message.format.version"]);
        Assert.Equal(("3600000", ConfigSource.DynamicTopicConfig), entries["retention.ms"]);

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = "message.format.version", Value = "3.0-IV1", IncrementalOperation = AlterConfigOpType.Set }],
        });
        Assert.Equal(("3.0-IV1", ConfigSource.DynamicTopicConfig), (await DescribeAsync(admin, resource))["message.format.version"]);

        var refused = await Assert.ThrowsAsync<AlterConfigsException>(() => AlterAsync(admin, resource, new() { ["message.format.version"] = "latest" }));
        Assert.Equal(ErrorCode.InvalidConfig, refused.Results[0].Error.Code);
        Assert.Contains("message.format.version", refused.Results[0].Error.Reason);

        // Kafka 3.x ignores it: the records stay in the v2 format (headers need v2) whatever version the topic names.
        await AlterAsync(admin, resource, new() { ["message.format.version"] = "0.10.0" });
        using (var producer = Clients.Producer(Bootstrap))
        {
            var sent = await producer.ProduceAsync(topic, new Message<string, string>
            {
                Key = "k", Value = "v", Headers = [new Header("h", "x"u8.ToArray())],
            });
            Assert.Equal(PersistenceStatus.Persisted, sent.Status);
        }
        var read = Assert.Single(Clients.ConsumeFromStart(Bootstrap, topic, 1, 1));
        Assert.Equal("x"u8.ToArray(), Assert.Single(read.Message.Headers).GetValueBytes());

        // A new topic without it describes Kafka 3.x's default.
        string plain = Clients.NewTopic("format-default");
        await Clients.CreateTopicAsync(Bootstrap, plain, 1);
        Assert.Equal(("3.0-IV1", ConfigSource.DefaultConfig),
            (await DescribeAsync(admin, new ConfigResource { Type = ResourceType.Topic, Name = plain }))["message.format.version"]);
    }

    [Fact]
    public async Task Newer_kafka_3_topic_configs_are_taken_and_tiered_storage_is_refused_as_on_a_broker_without_it()
    {
        string topic = Clients.NewTopic("newer-configs");
        using var admin = Clients.Admin(Bootstrap);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        await Clients.CreateTopicAsync(Bootstrap, topic, 1, new()
        {
            ["compression.zstd.level"] = "7", ["local.retention.ms"] = "60000", ["remote.log.copy.disable"] = "true",
        });
        var entries = await DescribeAsync(admin, resource);
        Assert.Equal(("7", ConfigSource.DynamicTopicConfig), entries["compression.zstd.level"]);
        Assert.Equal(("60000", ConfigSource.DynamicTopicConfig), entries["local.retention.ms"]);
        Assert.Equal(("-1", ConfigSource.DefaultConfig), entries["compression.gzip.level"]);
        Assert.Equal(("false", ConfigSource.DefaultConfig), entries["remote.storage.enable"]);

        var refused = await Assert.ThrowsAsync<AlterConfigsException>(() => AlterAsync(admin, resource, new() { ["remote.storage.enable"] = "true" }));
        Assert.Equal(ErrorCode.InvalidConfig, refused.Results[0].Error.Code);
        var badLevel = await Assert.ThrowsAsync<AlterConfigsException>(() => AlterAsync(admin, resource, new() { ["compression.gzip.level"] = "12" }));
        Assert.Equal(ErrorCode.InvalidConfig, badLevel.Results[0].Error.Code);
    }

    private static async Task AlterAsync(IAdminClient admin, ConfigResource resource, Dictionary<string, string> configs, bool validateOnly = false)
    {
#pragma warning disable CS0618 // AlterConfigsAsync is obsolete in the client, but it is the API under test
        await admin.AlterConfigsAsync(
            new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = configs.Select(c => new ConfigEntry { Name = c.Key, Value = c.Value }).ToList() },
            new AlterConfigsOptions { ValidateOnly = validateOnly, RequestTimeout = Clients.Timeout });
#pragma warning restore CS0618
    }

    private static async Task<Dictionary<string, (string Value, ConfigSource Source)>> DescribeAsync(IAdminClient admin, ConfigResource resource)
    {
        var described = await admin.DescribeConfigsAsync([resource]);
        return described[0].Entries.ToDictionary(e => e.Key, e => (e.Value.Value, e.Value.Source));
    }
}
