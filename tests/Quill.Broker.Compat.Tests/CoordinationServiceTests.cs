using Confluent.Kafka;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Where the broker keeps its metadata: Kafka's ZooKeeper-mode znodes, readable with ZooKeeper tools, whether Keeper
/// is embedded (`quill start`), a separate `quill keeper start`, or Apache ZooKeeper 3.8 itself.
/// </summary>
public sealed class CoordinationServiceTests
{
    [Fact]
    public async Task Quill_start_keeps_kafkas_znode_layout_in_the_embedded_keeper()
    {
        await using var broker = await BrokerProcess.StartAsync();
        string topic = Clients.NewTopic("layout");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 2, new() { ["retention.ms"] = "60000" });

        var ids = await QuillZkAsync(broker.KeeperConnect, "ls", "/brokers/ids");
        Assert.Contains("[0]", ids.StdOut);
        var registration = await QuillZkAsync(broker.KeeperConnect, "get", "/brokers/ids/0");
        Assert.Contains($"\"endpoints\":[\"PLAINTEXT://127.0.0.1:{broker.KafkaPort}\"]", registration.StdOut);
        var assignment = await QuillZkAsync(broker.KeeperConnect, "get", $"/brokers/topics/{topic}");
        Assert.Contains("\"partitions\":{\"0\":[0],\"1\":[0]}", assignment.StdOut);
        Assert.Contains("\"topic_id\":", assignment.StdOut);
        var state = await QuillZkAsync(broker.KeeperConnect, "get", $"/brokers/topics/{topic}/partitions/1/state");
        Assert.Contains("\"leader\":0", state.StdOut);
        Assert.Contains("\"isr\":[0]", state.StdOut);
        var config = await QuillZkAsync(broker.KeeperConnect, "get", $"/config/topics/{topic}");
        Assert.Contains("\"retention.ms\":\"60000\"", config.StdOut);
        var controller = await QuillZkAsync(broker.KeeperConnect, "get", "/controller");
        Assert.Contains("\"brokerid\":0", controller.StdOut);
        var clusterId = await QuillZkAsync(broker.KeeperConnect, "get", "/cluster/id");
        Assert.Contains("\"id\":", clusterId.StdOut);
    }

    [Fact]
    public async Task Broker_runs_against_apache_zookeeper_and_keeps_topics_across_restarts()
    {
        await using var zookeeper = await ApacheZooKeeperServer.StartAsync();
        await using var broker = await BrokerProcess.StartWithConfigAsync(zookeeper.ConnectString + "/kafka");
        string topic = Clients.NewTopic("apache-zk");
        await RoundTripAsync(broker, topic);

        // zkCli.sh, ZooKeeper's own shell, sees the registration and the topic under the chroot.
        var ids = await ToolRunner.RunZkCliAsync(zookeeper.ConnectString, "ls", "/kafka/brokers/ids");
        Assert.Contains("[0]", ids.Output);
        var topics = await ToolRunner.RunZkCliAsync(zookeeper.ConnectString, "ls", "/kafka/brokers/topics");
        Assert.Contains(topics.Output, line => line.Contains(topic) && line.Contains("__consumer_offsets"));

        broker.Kill();
        await broker.StartAgainAsync();
        var consumed = Clients.ConsumeFromStart(broker.BootstrapServers, topic, 1, 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"{i}"), consumed.Select(c => c.Message.Value));
    }

    [Fact]
    public async Task Broker_runs_against_a_separate_quill_keeper()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        await using var broker = await BrokerProcess.StartWithConfigAsync(keeper.ConnectString);
        await RoundTripAsync(broker, Clients.NewTopic("keeper"));
        var ids = await QuillZkAsync(keeper.ConnectString, "ls", "/brokers/ids");
        Assert.Contains("[0]", ids.StdOut);
    }

    private static async Task RoundTripAsync(BrokerProcess broker, string topic)
    {
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1);
        using (var producer = Clients.Producer(broker.BootstrapServers))
        {
            for (int i = 0; i < 10; i++) producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"{i}" });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }
        var consumed = Clients.ConsumeFromStart(broker.BootstrapServers, topic, 1, 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"{i}"), consumed.Select(c => c.Message.Value));
    }

    /// <summary>`quill zk -server host:port cmd args` (Quill's zkCli.sh-compatible shell).</summary>
    private static async Task<ToolResult> QuillZkAsync(string server, params string[] command)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var result = await ToolRunner.RunAsync(dotnet, new[] { KeeperProcess.QuillDll, "zk", "-server", server }.Concat(command));
        Assert.True(result.Succeeded, result.ToString());
        return result;
    }
}
