using System.Text.RegularExpressions;

namespace Quill.Tools.Tests;

/// <summary>The console tools against a real `quill start` broker: the admin flows the mock cannot serve.</summary>
[Collection(QuillBrokerCollection.Name)]
public sealed class BrokerToolTests(QuillBroker broker)
{
    private string Bootstrap => broker.BootstrapServers;

    private static string NewTopic() => "bt-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Topics_create_describe_alter_delete()
    {
        string topic = NewTopic();
        var created = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", topic,
            "--partitions", "3", "--replication-factor", "1", "--config", "retention.ms=60000");
        Assert.True(created.Succeeded, created.ToString() + broker.Output);
        Assert.Equal($"Created topic {topic}.", created.Lines().Single());

        var again = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", topic, "--partitions", "3");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("TOPIC_ALREADY_EXISTS", again.StdErr);

        var describe = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--describe", "--topic", topic);
        Assert.True(describe.Succeeded, describe.ToString());
        var lines = describe.Lines();
        Assert.Matches($@"^Topic: {topic}\tTopicId: [A-Za-z0-9_-]{{22}}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=60000$", lines[0]);
        Assert.Equal(3, lines.Skip(1).Count(l => Regex.IsMatch(l, $@"^\tTopic: {topic}\tPartition: \d\tLeader: (\d+)\tReplicas: \1\tIsr: \1$")));

        var alter = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--alter", "--topic", topic, "--partitions", "6");
        Assert.True(alter.Succeeded, alter.ToString());
        var described = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--describe", "--topic", topic);
        Assert.Contains("PartitionCount: 6", described.StdOut);

        var delete = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--delete", "--topic", topic);
        Assert.True(delete.Succeeded, delete.ToString());
        // Deletion completes in the background, as in Kafka: the topic leaves the metadata shortly after.
        var missing = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--describe", "--topic", topic);
        for (var until = DateTime.UtcNow.AddSeconds(20); missing.ExitCode == 0 && DateTime.UtcNow < until; await Task.Delay(500))
            missing = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--describe", "--topic", topic);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.StdErr);
    }

    [Fact]
    public async Task topics_create_takes_a_replica_assignment_and_refuses_a_malformed_one_with_the_reason()
    {
        string topic = NewTopic();
        // The one broker's id is whoever leads a fresh topic; the assignment puts two partitions on it.
        var probe = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", topic + "-probe", "--partitions", "1");
        Assert.True(probe.Succeeded, probe.ToString());
        var probed = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--describe", "--topic", topic + "-probe");
        string id = Regex.Match(probed.StdOut, @"Leader: (\d+)").Groups[1].Value;

        var created = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", topic, "--replica-assignment", $"{id},{id}");
        Assert.True(created.Succeeded, created.ToString());
        var described = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--describe", "--topic", topic);
        Assert.Contains("PartitionCount: 2", described.StdOut);
        Assert.Equal(2, described.Lines().Count(l => l.EndsWith($"\tLeader: {id}\tReplicas: {id}\tIsr: {id}", StringComparison.Ordinal)));

        foreach (var (assignment, reason) in new[] { ("0:x", "'x' in '0:x' is not a broker id"), ("1:1", "broker 1 appears twice"), ("0:1,2", "partition 1 has 1 replicas, partition 0 has 2") })
        {
            var bad = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", NewTopic(), "--replica-assignment", assignment);
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains(reason, bad.StdErr);
        }
        var both = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", NewTopic(), "--replica-assignment", id, "--partitions", "2");
        Assert.NotEqual(0, both.ExitCode);
        Assert.Contains("takes the place of --partitions", both.StdErr);
    }

    [Fact]
    public async Task Configs_alter_and_describe_a_topic()
    {
        string topic = NewTopic();
        Assert.True((await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", topic, "--partitions", "1")).Succeeded);
        var alter = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "topics", "--entity-name", topic,
            "--alter", "--add-config", "retention.ms=12345,cleanup.policy=compact");
        Assert.True(alter.Succeeded, alter.ToString());
        Assert.Equal($"Completed updating config for topic {topic}.", alter.Lines().Single());

        var describe = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "topics", "--entity-name", topic, "--describe");
        Assert.True(describe.Succeeded, describe.ToString());
        Assert.Equal($"Dynamic configs for topic {topic} are:", describe.Lines()[0]);
        Assert.Contains(describe.Lines(), l => l.StartsWith("  retention.ms=12345 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=12345"));
        Assert.Contains(describe.Lines(), l => l.StartsWith("  cleanup.policy=compact "));

        var remove = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "topics", "--entity-name", topic,
            "--alter", "--delete-config", "cleanup.policy");
        Assert.True(remove.Succeeded, remove.ToString());
        var after = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "topics", "--entity-name", topic, "--describe");
        Assert.DoesNotContain(after.Lines(), l => l.StartsWith("  cleanup.policy="));
    }

    [Fact]
    public async Task Configs_alter_and_describe_the_cluster_wide_broker_defaults_and_one_broker()
    {
        var alter = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "brokers", "--entity-default",
            "--alter", "--add-config", "num.io.threads=4");
        Assert.True(alter.Succeeded, alter.ToString());
        Assert.Equal("Completed updating default config for brokers in the cluster.", alter.Lines().Single());
        var defaults = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "brokers", "--entity-default", "--describe");
        Assert.True(defaults.Succeeded, defaults.ToString());
        Assert.Equal(["Dynamic configs for the default broker are:",
            "  num.io.threads=4 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:num.io.threads=4}"], defaults.Lines());
        // Broker 0 sees the cluster-wide value, with where it comes from.
        var broker0 = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "brokers", "--entity-name", "0", "--describe");
        Assert.Contains(broker0.Lines(), l => l.StartsWith("  num.io.threads=4 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:num.io.threads=4"));

        var refused = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "brokers", "--entity-default",
            "--alter", "--add-config", "log.dirs=/elsewhere");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Cannot update these configs dynamically", refused.StdErr);

        var remove = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "brokers", "--entity-default",
            "--alter", "--delete-config", "num.io.threads");
        Assert.True(remove.Succeeded, remove.ToString());
        var after = await QuillTool.RunAsync("configs", "--bootstrap-server", Bootstrap, "--entity-type", "brokers", "--entity-default", "--describe");
        Assert.Equal(["Dynamic configs for the default broker are:"], after.Lines());
    }

    [Fact]
    public async Task Groups_list_describe_reset_delete()
    {
        string topic = NewTopic(), group = "g-" + topic;
        Assert.True((await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--create", "--topic", topic, "--partitions", "1")).Succeeded);
        var produced = await QuillTool.RunAsync(["produce", "--bootstrap-server", Bootstrap, "--topic", topic], string.Concat(Enumerable.Range(0, 10).Select(i => $"m{i}\n")));
        Assert.True(produced.Succeeded, produced.ToString());
        var consumed = await QuillTool.RunAsync("consume", "--bootstrap-server", Bootstrap, "--topic", topic, "--group", group,
            "--from-beginning", "--max-messages", "4", "--timeout-ms", "30000");
        Assert.True(consumed.Succeeded, consumed.ToString());
        Assert.Equal(["m0", "m1", "m2", "m3"], consumed.Lines());

        var list = await QuillTool.RunAsync("groups", "--bootstrap-server", Bootstrap, "--list");
        Assert.True(list.Succeeded, list.ToString());
        Assert.Contains(group, list.Lines());

        var describe = await QuillTool.RunAsync("groups", "--bootstrap-server", Bootstrap, "--describe", "--group", group);
        Assert.True(describe.Succeeded, describe.ToString());
        Assert.Contains($"Consumer group '{group}' has no active members.", describe.StdOut);
        var row = describe.Lines().Last().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([group, topic, "0", "4", "10", "6", "-", "-", "-"], row);

        var reset = await QuillTool.RunAsync("groups", "--bootstrap-server", Bootstrap, "--reset-offsets", "--group", group, "--topic", topic,
            "--to-earliest", "--execute");
        Assert.True(reset.Succeeded, reset.ToString());
        Assert.Equal([group, topic, "0", "0"], reset.Lines().Last().Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var reread = await QuillTool.RunAsync("consume", "--bootstrap-server", Bootstrap, "--topic", topic, "--group", group,
            "--max-messages", "1", "--timeout-ms", "30000");
        Assert.Equal(["m0"], reread.Lines());

        var delete = await QuillTool.RunAsync("groups", "--bootstrap-server", Bootstrap, "--delete", "--group", group);
        Assert.True(delete.Succeeded, delete.ToString());
        Assert.Contains($"Deletion of requested consumer groups ('{group}') was successful.", delete.StdOut);
    }

    [Fact]
    public async Task Zookeeper_option_finds_the_broker_in_embedded_Keeper()
    {
        string topic = NewTopic();
        var created = await QuillTool.RunAsync("topics", "--zookeeper", broker.KeeperConnect, "--create", "--topic", topic, "--partitions", "2");
        Assert.True(created.Succeeded, created.ToString());
        var list = await QuillTool.RunAsync("topics", "--zookeeper", broker.KeeperConnect, "--list");
        Assert.Contains(topic, list.Lines());
    }

    [Fact]
    public async Task Perf_produce_and_consume_against_the_broker()
    {
        string topic = NewTopic();
        Quill.Testing.ToolResult produced;
        try
        {
            produced = await QuillTool.RunAsync(["perf", "produce", "--bootstrap-server", Bootstrap, "--topic", topic,
                "--num-records", "50000", "--record-size", "100", "--throughput", "-1", "--producer-props", "acks=1"], null, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n--- broker output ---\n{broker.Output[^Math.Min(broker.Output.Length, 8000)..]}", e);
        }
        Assert.True(produced.Succeeded, produced.ToString());
        Assert.StartsWith("50000 records sent, ", produced.Lines()[^1]);
        var consumed = await QuillTool.RunAsync("perf", "consume", "--bootstrap-server", Bootstrap, "--topic", topic, "--messages", "50000");
        Assert.True(consumed.Succeeded, consumed.ToString());
        Assert.Equal("50000", consumed.Lines()[^1].Split(", ")[4]);
    }
}
