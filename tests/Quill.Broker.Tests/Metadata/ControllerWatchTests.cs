using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker.Config;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Broker.Tests.Log;
using Quill.Keeper.Client;
using Quill.Testing;

namespace Quill.Broker.Tests.Metadata;

/// <summary>
/// The controller over a real Apache ZooKeeper, changed behind its back by another client (as Kafka's admin tools
/// write /brokers/topics and /admin/delete_topics): the watch events are handled one at a time, in order, on the
/// controller's loop, so what it ends with is what ZooKeeper ends with.
/// </summary>
public sealed class ControllerWatchTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task topics_another_client_creates_and_at_once_marks_for_deletion_end_deleted_and_a_later_topic_is_served()
    {
        await using var zookeeper = await ApacheZooKeeperServer.StartAsync();
        using var dir = new TempDir();
        var options = new BrokerOptions { BrokerId = 0, LogDirs = [dir.Path], ZooKeeperConnect = zookeeper.ConnectString };
        var time = TimeProvider.System;
        await using var brokerSession = await KeeperClient.ConnectAsync(zookeeper.ConnectString);
        var zk = new KafkaZkClient(brokerSession, NullLogger.Instance, time);
        await zk.EnsurePersistentPathsAsync();
        string clusterId = await zk.GetOrCreateClusterIdAsync();
        using var replicas = new ReplicaManager([dir.Path], options.LogDefaults, _ => options.LogDefaults, time, NullLogger.Instance);
        var cache = new MetadataCache();
        await using var controller = new Controller(zk, cache, replicas, options, new DynamicBrokerConfig(options), time, NullLogger.Instance);
        await zk.RegisterBrokerAsync(new BrokerInfo(0, "127.0.0.1", 9092, null), TimeSpan.FromSeconds(10));
        await controller.StartAsync(clusterId, TimeSpan.FromSeconds(10), CancellationToken.None);

        await using var toolSession = await KeeperClient.ConnectAsync(zookeeper.ConnectString);
        var tool = new KafkaZkClient(toolSession, NullLogger.Instance, time);
        string[] deleted = [.. Enumerable.Range(0, 5).Select(i => $"short-lived-{i}")];
        foreach (string name in deleted)
        {
            await tool.CreateTopicAsync(OnePartition(name), fence: null);
            await tool.MarkTopicForDeletionAsync(name);
        }
        await tool.CreateTopicAsync(OnePartition("kept"), fence: null);

        var until = DateTime.UtcNow + Deadline;
        while (!(replicas.Get("kept", 0) is not null && (await tool.GetTopicsMarkedForDeletionAsync()).Count == 0))
        {
            Assert.True(DateTime.UtcNow < until, $"the controller never caught up; {zookeeper.Diagnostics()}");
            await Task.Delay(50);
        }

        var left = await tool.GetTopicNamesAsync();
        Assert.Equal(["kept"], left);
        Assert.Equal(["kept"], cache.Topics.Select(t => t.Name));
        foreach (string name in deleted)
        {
            Assert.Null(replicas.Get(name, 0));
            Assert.False(Directory.Exists(dir.Partition(name)), $"the log of {name} is still on disk");
        }
        Assert.Equal(cache.GetTopic("kept")!.Id, replicas.Get("kept", 0)!.TopicId);
    }

    private static TopicInfo OnePartition(string name) =>
        new(name, Guid.NewGuid(), [new PartitionInfo(0, [0], new PartitionState(0, 0, [0], 0))], new Dictionary<string, string>());
}
