using System.Text.Json;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>kcat, confluent-kafka-python and kafkajs against a live `quill start`.</summary>
public sealed class ToolClientTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;

    private static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "scripts", name);

    [Fact]
    public async Task Kcat_lists_produces_and_consumes()
    {
        if (!File.Exists("/usr/bin/kcat")) Assert.Fail("kcat is not installed: apt-get install kcat");
        string topic = Clients.NewTopic("kcat");
        var produce = await ToolRunner.RunAsync("kcat", ["-b", _broker.BootstrapServers, "-P", "-t", topic, "-K", ":", "-z", "snappy"],
            standardInput: "a:one\nb:two\na:three\n");
        Assert.True(produce.Succeeded, produce.ToString());

        var consume = await ToolRunner.RunAsync("kcat", ["-b", _broker.BootstrapServers, "-C", "-t", topic, "-e", "-q", "-f", "%k=%s@%o\n"]);
        Assert.True(consume.Succeeded, consume.ToString());
        Assert.Equal(["a=one@0", "b=two@1", "a=three@2"], consume.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var list = await ToolRunner.RunAsync("kcat", ["-b", _broker.BootstrapServers, "-L", "-t", topic]);
        Assert.True(list.Succeeded, list.ToString());
        Assert.Contains($"broker 0 at 127.0.0.1:{_broker.KafkaPort} (controller)", list.StdOut);
        Assert.Contains($"topic \"{topic}\" with 1 partitions:", list.StdOut);
        Assert.Contains("partition 0, leader 0, replicas: 0, isrs: 0", list.StdOut);

        var json = await ToolRunner.RunAsync("kcat", ["-b", _broker.BootstrapServers, "-L", "-J"]);
        using var doc = JsonDocument.Parse(json.StdOut);
        Assert.Contains(doc.RootElement.GetProperty("topics").EnumerateArray(), t => t.GetProperty("topic").GetString() == topic);
    }

    [Fact]
    public async Task Confluent_kafka_python_round_trips_every_codec()
    {
        if (!File.Exists(ToolRunner.Python)) Assert.Fail($"{ToolRunner.Python} not found: apt-get install python3 python3-confluent-kafka");
        string topic = Clients.NewTopic("python");
        var run = await ToolRunner.RunAsync(ToolRunner.Python, [Script("python_roundtrip.py"), _broker.BootstrapServers, topic],
            timeout: TimeSpan.FromSeconds(120));
        if (run.StdErr.Contains("No module named 'confluent_kafka'"))
            Assert.Fail($"confluent_kafka is missing: apt-get install python3-confluent-kafka\n{run}");
        Assert.True(run.Succeeded, run.ToString());
        using var doc = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var root = doc.RootElement;
        Assert.Equal("1048576", root.GetProperty("retention").GetString());
        Assert.Equal(3, root.GetProperty("partitionsAfter").GetInt32());
        Assert.Equal("3600000", root.GetProperty("retentionMs").GetString());
        Assert.False(root.GetProperty("listedAfterDelete").GetBoolean());
        var sent = root.GetProperty("sent").EnumerateArray().Select(e => e.GetString()).ToList();
        var seen = root.GetProperty("seen").EnumerateArray().ToList();
        Assert.Equal(sent.Order(), seen.Select(s => s.GetProperty("value").GetString()).Order());
        foreach (var byKey in seen.GroupBy(s => s.GetProperty("key").GetString()))
        {
            Assert.Single(byKey.Select(s => s.GetProperty("partition").GetInt32()).Distinct());
            var values = byKey.OrderBy(s => s.GetProperty("offset").GetInt64()).Select(s => s.GetProperty("value").GetString()).ToList();
            Assert.Equal(values.OrderBy(v => sent.IndexOf(v)), values); // in the order sent
        }
        // Timestamps 1700000000000 + 10*i: the first at or after +1000 is message 100, in whichever partition; each
        // partition answers with its first such offset.
        foreach (var (offset, partition) in root.GetProperty("byTime").EnumerateArray().Select((o, p) => (o.GetInt64(), p)))
        {
            var expected = seen.Where(s => s.GetProperty("partition").GetInt32() == partition && s.GetProperty("ts").GetInt64() >= 1700000001000)
                .Select(s => s.GetProperty("offset").GetInt64()).DefaultIfEmpty(-1).Min();
            Assert.Equal(expected, offset);
        }
    }

    [Fact]
    public async Task Python_confluent_kafka_transactions_commit_and_abort()
    {
        if (!File.Exists(ToolRunner.Python)) Assert.Fail($"{ToolRunner.Python} not found: apt-get install python3 python3-confluent-kafka");
        string topic = Clients.NewTopic("python-txn");
        var run = await ToolRunner.RunAsync(ToolRunner.Python, [Script("python_transactions.py"), _broker.BootstrapServers, topic],
            timeout: TimeSpan.FromSeconds(120));
        if (run.StdErr.Contains("No module named 'confluent_kafka'"))
            Assert.Fail($"confluent_kafka is missing: apt-get install python3-confluent-kafka\n{run}");
        Assert.True(run.Succeeded, run + "\n" + _broker.Diagnostics());
        using var doc = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        Assert.Equal(["committed-0", "committed-1", "committed-2"],
            doc.RootElement.GetProperty("committed").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(["committed-0", "committed-1", "committed-2", "aborted-0", "aborted-1"],
            doc.RootElement.GetProperty("uncommitted").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task Kafkajs_transactions_commit_abort_and_send_offsets()
    {
        string? nodeDir = FindUp("tests/node/node_modules/kafkajs");
        if (nodeDir is null) Assert.Fail("kafkajs is not installed: cd tests/node && npm ci");
        string topic = Clients.NewTopic("kafkajs-txn");
        var run = await ToolRunner.RunAsync("node", [Script("kafkajs_transactions.js"), _broker.BootstrapServers, topic],
            timeout: TimeSpan.FromSeconds(120),
            environment: new Dictionary<string, string> { ["NODE_PATH"] = Path.GetDirectoryName(nodeDir)! });
        Assert.True(run.Succeeded, run + "\n" + _broker.Diagnostics());
        using var doc = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var root = doc.RootElement;
        Assert.Equal(["committed-0", "committed-1", "committed-2", "committed-3"],
            root.GetProperty("seen").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal([42], root.GetProperty("committed").EnumerateArray().Select(v => v.GetInt32()));
    }

    [Fact]
    public async Task Kafkajs_creates_produces_consumes_in_a_group_and_deletes()
    {
        string? nodeDir = FindUp("tests/node/node_modules/kafkajs");
        if (nodeDir is null) Assert.Fail("kafkajs is not installed: cd tests/node && npm ci");
        string topic = Clients.NewTopic("kafkajs");
        var run = await ToolRunner.RunAsync("node", [Script("kafkajs_roundtrip.js"), _broker.BootstrapServers, topic],
            timeout: TimeSpan.FromSeconds(120),
            environment: new Dictionary<string, string> { ["NODE_PATH"] = Path.GetDirectoryName(nodeDir)! });
        Assert.True(run.Succeeded, run + "\n" + _broker.Diagnostics());
        using var doc = JsonDocument.Parse(run.StdOut.Trim().Split('\n')[^1]);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("created").GetBoolean());
        Assert.Equal(3, root.GetProperty("partitions").GetArrayLength());
        foreach (var p in root.GetProperty("partitions").EnumerateArray())
        {
            Assert.Equal(0, p.GetProperty("leader").GetInt32());
            Assert.Equal([0], p.GetProperty("isr").EnumerateArray().Select(i => i.GetInt32()));
        }
        Assert.Equal(90, root.GetProperty("highWatermarks").EnumerateArray().Sum(h => h.GetInt32()));
        var seen = root.GetProperty("seen").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, 90).Select(i => $"{i}").Order(), seen.Select(s => s.GetProperty("value").GetString()).Order());
        foreach (var byKey in seen.GroupBy(s => s.GetProperty("key").GetString()))
        {
            var values = byKey.OrderBy(s => s.GetProperty("offset").GetInt32()).Select(s => int.Parse(s.GetProperty("value").GetString()!)).ToList();
            Assert.Equal(values.Order(), values);
        }
        Assert.True(root.GetProperty("deleted").GetBoolean());
    }

    /// <summary>A path relative to the repository root, found by walking up from the test assembly.</summary>
    internal static string? FindUp(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
