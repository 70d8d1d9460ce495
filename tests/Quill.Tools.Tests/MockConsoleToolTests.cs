using System.Text.RegularExpressions;

namespace Quill.Tools.Tests;

/// <summary>produce, consume, topics --list/--describe and groups --describe against librdkafka's mock broker.</summary>
[Collection(MockBrokerCollection.Name)]
public sealed class MockConsoleToolTests(MockBroker broker)
{
    private string Bootstrap => broker.BootstrapServers;

    private static string NewTopic() => "tools-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Keyed_lines_come_back_with_their_keys_in_order_per_key()
    {
        string topic = NewTopic();
        var lines = Enumerable.Range(0, 30).Select(i => $"key{i % 3}:value-{i}").ToList();
        var produced = await QuillTool.RunAsync(["produce", "--bootstrap-server", Bootstrap, "--topic", topic,
            "--property", "parse.key=true", "--property", "key.separator=:"], string.Join('\n', lines) + "\n");
        Assert.True(produced.Succeeded, produced.ToString());

        var consumed = await QuillTool.RunAsync("consume", "--bootstrap-server", Bootstrap, "--topic", topic, "--from-beginning",
            "--max-messages", "30", "--property", "print.key=true", "--property", "key.separator=|", "--timeout-ms", "30000");
        Assert.True(consumed.Succeeded, consumed.ToString());
        Assert.Contains("Processed a total of 30 messages", consumed.StdErr);
        var got = consumed.Lines();
        Assert.Equal(30, got.Length);
        // Keys pick partitions; within a key the order is the order sent.
        foreach (var key in new[] { "key0", "key1", "key2" })
            Assert.Equal(lines.Where(l => l.StartsWith(key + ":")).Select(l => l.Replace(':', '|')), got.Where(l => l.StartsWith(key + "|")));
    }

    [Fact]
    public async Task A_partition_is_read_from_an_offset_with_partition_and_offset_printed()
    {
        string topic = NewTopic();
        // One key: every line lands in the same partition.
        var produced = await QuillTool.RunAsync(["produce", "--bootstrap-server", Bootstrap, "--topic", topic, "--property", "parse.key=true",
            "--compression-codec", "lz4"], string.Concat(Enumerable.Range(0, 10).Select(i => $"k\tv{i}\n")));
        Assert.True(produced.Succeeded, produced.ToString());

        var all = await QuillTool.RunAsync("consume", "--bootstrap-server", Bootstrap, "--topic", topic, "--from-beginning",
            "--max-messages", "10", "--property", "print.partition=true", "--timeout-ms", "30000");
        Assert.True(all.Succeeded, all.ToString());
        string partition = Regex.Match(all.Lines()[0], @"^Partition:(\d+)\t").Groups[1].Value;
        Assert.NotEqual("", partition);

        var fromSeven = await QuillTool.RunAsync("consume", "--bootstrap-server", Bootstrap, "--topic", topic, "--partition", partition,
            "--offset", "7", "--property", "print.offset=true", "--property", "print.key=true", "--timeout-ms", "3000");
        Assert.True(fromSeven.Succeeded, fromSeven.ToString());
        Assert.Equal(["Offset:7\tk\tv7", "Offset:8\tk\tv8", "Offset:9\tk\tv9"], fromSeven.Lines());
        Assert.Contains("Processed a total of 3 messages", fromSeven.StdErr);
    }

    [Fact]
    public async Task A_line_without_the_key_separator_fails_the_producer()
    {
        var result = await QuillTool.RunAsync(["produce", "--bootstrap-server", Bootstrap, "--topic", NewTopic(), "--property", "parse.key=true"],
            "no separator here\n");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No key separator found on line number 1", result.StdErr);
    }

    [Fact]
    public async Task Topics_list_and_describe_show_a_topic_in_Kafka_format()
    {
        string topic = NewTopic();
        var produced = await QuillTool.RunAsync(["produce", "--bootstrap-server", Bootstrap, "--topic", topic], "hello\n");
        Assert.True(produced.Succeeded, produced.ToString());

        var list = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--list");
        Assert.True(list.Succeeded, list.ToString());
        Assert.Contains(topic, list.Lines());
        Assert.Equal(list.Lines().Order(StringComparer.Ordinal), list.Lines());

        var describe = await QuillTool.RunAsync("topics", "--bootstrap-server", Bootstrap, "--describe", "--topic", topic);
        Assert.True(describe.Succeeded, describe.ToString());
        var lines = describe.Lines();
        // The mock names no controller, so there is no topic id to show; its auto-created topics have 4 partitions.
        Assert.Matches($@"^Topic: {topic}\tTopicId: \S+\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: $", lines[0]);
        Assert.Equal(Enumerable.Range(0, 4).Select(p => $"\tTopic: {topic}\tPartition: {p}\tLeader: 1\tReplicas: 1\tIsr: 1"), lines.Skip(1));

        // (A missing topic cannot be shown here: the mock creates every topic a Metadata request names.)
    }

    [Fact]
    public async Task Groups_describe_shows_committed_offsets_log_end_and_lag()
    {
        string topic = NewTopic(), group = "g-" + topic;
        var produced = await QuillTool.RunAsync(["produce", "--bootstrap-server", Bootstrap, "--topic", topic, "--property", "parse.key=true"],
            string.Concat(Enumerable.Range(0, 8).Select(i => $"same\tm{i}\n")));
        Assert.True(produced.Succeeded, produced.ToString());
        var consumed = await QuillTool.RunAsync("consume", "--bootstrap-server", Bootstrap, "--topic", topic, "--group", group,
            "--from-beginning", "--max-messages", "5", "--timeout-ms", "30000");
        Assert.True(consumed.Succeeded, consumed.ToString());

        var describe = await QuillTool.RunAsync("groups", "--bootstrap-server", Bootstrap, "--describe", "--group", group);
        Assert.True(describe.Succeeded, describe.ToString());
        var lines = describe.Lines();
        int header = Array.FindIndex(lines, l => l.StartsWith("GROUP "));
        Assert.True(header >= 0, describe.ToString());
        Assert.Equal(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"],
            lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // All 8 messages are in one partition; the consumer stopped after 5 and committed that on close.
        var row = lines.Skip(header + 1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Single();
        Assert.Equal(group, row[0]);
        Assert.Equal(topic, row[1]);
        Assert.Equal(["5", "8", "3", "-", "-", "-"], row[3..]);
    }
}
