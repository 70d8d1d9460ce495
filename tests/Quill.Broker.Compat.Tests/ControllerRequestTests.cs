using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The controller's LeaderAndIsr / UpdateMetadata over the Kafka protocol, across three `quill broker start` processes
/// whose Keeper watches on partition states are off (quill.partition.state.watches=false): a broker that is not the
/// controller then learns a leadership move only from the controller's requests. A controlled shutdown of the leader
/// moves leadership to the next replica, which says so in its log ("LeaderAndIsr from controller ...", written only
/// when the request brought a newer state), answers it in Metadata, and takes acks=all writes that a consumer reads
/// back. Raw LeaderAndIsr requests then show the fences: an older controller epoch is STALE_CONTROLLER_EPOCH, an older
/// broker epoch STALE_BROKER_EPOCH, an older leader epoch STALE_CONTROLLER_EPOCH on its partition, and none moves anything.
/// </summary>
public sealed class ControllerRequestTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task leadership_moves_by_the_controllers_leader_and_isr_and_stale_requests_are_refused()
    {
        await using var cluster = await BrokerCluster.StartAsync(3, new Dictionary<string, string>
        {
            ["replica.lag.time.max.ms"] = "3000",
            ["quill.partition.state.watches"] = "false",
        });
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "three brokers and a controller");
        var (controller, epoch) = await cluster.ControllerInKeeperAsync();
        int[] others = [.. cluster.Brokers.Keys.Where(id => id != controller)];
        int first = others[0], second = others[1];

        string topic = Clients.NewTopic("lisr");
        using (var admin = Clients.Admin(cluster.BootstrapServers))
        {
            await admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = topic, NumPartitions = 1, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [first, second, controller] }, Configs = new() { ["min.insync.replicas"] = "2" },
            }]);
        }
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == first && s.Isr.Length == 3, Deadline, $"leader {first} and all three in sync");
        await ProduceAsync(cluster.BootstrapServers, topic, 0, 20);

        // A clean stop of the leader: the controller moves leadership to the next ISR member and tells it.
        var stopping = cluster.Brokers[first];
        int? exit = await stopping.TerminateAsync(TimeSpan.FromSeconds(60));
        Assert.True(exit == 0, $"broker {first} exited with {exit?.ToString() ?? "nothing"}\n{stopping.Output}");
        var after = await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == second, Deadline, $"leader {second}");
        var target = cluster.Brokers[second];
        string applied = $"LeaderAndIsr from controller {controller} (epoch {epoch}): {topic}-0 leader {second}, leader epoch {after.LeaderEpoch}";
        await WaitUntilAsync(() => Task.FromResult(target.Output.Contains(applied, StringComparison.Ordinal)), $"'{applied}' in broker {second}'s log", cluster);
        foreach (var b in cluster.Brokers.Values.Where(b => b.IsRunning))
            await WaitUntilAsync(async () => await LeaderSeenByAsync(b, topic) == second, $"broker on port {b.KafkaPort} answering leader {second}", cluster);
        string live = string.Join(',', cluster.Brokers.Values.Where(b => b.IsRunning).Select(b => b.BootstrapServers));
        await ProduceAsync(live, topic, 20, 20);
        var read = Clients.ConsumeFromStart(live, topic, 1, 40).Select(r => int.Parse(r.Message.Value)).ToList();
        Assert.Equal(Enumerable.Range(0, 40), read);

        // Requests that must move nothing, each refused and logged with its reason.
        using var raw = await RawKafkaConnection.ConnectAsync(target.KafkaPort);
        var staleController = await raw.RequestAsync(KafkaApis.LeaderAndIsr, 7, LeaderAndIsr(first, epoch - 1, -1, topic, leader: first, after.LeaderEpoch + 5));
        Assert.Equal((short)KafkaError.StaleControllerEpoch, staleController.GetInt16("ErrorCode"));
        var staleBroker = await raw.RequestAsync(KafkaApis.LeaderAndIsr, 7, LeaderAndIsr(controller, epoch, brokerEpoch: 1, topic, leader: first, after.LeaderEpoch + 5));
        Assert.Equal((short)KafkaError.StaleBrokerEpoch, staleBroker.GetInt16("ErrorCode"));
        var olderLeader = await raw.RequestAsync(KafkaApis.LeaderAndIsr, 7, LeaderAndIsr(controller, epoch, -1, topic, leader: first, after.LeaderEpoch - 1));
        Assert.Equal(0, olderLeader.GetInt16("ErrorCode"));
        var partition = Assert.Single(Assert.Single(olderLeader.GetArray("Topics")!).GetArray("PartitionErrors")!);
        Assert.Equal((short)KafkaError.StaleControllerEpoch, partition.GetInt16("ErrorCode"));
        // The broker's log reaches this process through a pipe, a little after the responses: waited for, not raced.
        foreach (string refusal in new[] { "refused with StaleControllerEpoch", "refused with StaleBrokerEpoch" })
            await WaitUntilAsync(() => Task.FromResult(target.Output.Contains(refusal, StringComparison.Ordinal)), $"'{refusal}' in broker {second}'s log", cluster);
        Assert.Equal(second, await LeaderSeenByAsync(target, topic));
        var now = await cluster.PartitionStateAsync(topic, 0);
        Assert.Equal((after.Leader, after.LeaderEpoch), (now.Leader, now.LeaderEpoch));
    }

    private static StructValue LeaderAndIsr(int controllerId, int controllerEpoch, long brokerEpoch, string topic, int leader, int leaderEpoch)
    {
        var request = KafkaApis.LeaderAndIsr.Request.New()
            .SetInt("ControllerId", controllerId).SetInt("ControllerEpoch", controllerEpoch).SetInt("BrokerEpoch", brokerEpoch);
        var t = request.AddElement("TopicStates").SetString("TopicName", topic);
        t.AddElement("PartitionStates").SetInt("PartitionIndex", 0).SetInt("ControllerEpoch", controllerEpoch).SetInt("Leader", leader)
            .SetInt("LeaderEpoch", leaderEpoch).SetInt32Array("Isr", [leader]).SetInt("PartitionEpoch", 1000)
            .SetInt32Array("Replicas", [leader]).SetInt32Array("AddingReplicas", []).SetInt32Array("RemovingReplicas", []);
        return request;
    }

    /// <summary>The leader one broker itself names for partition 0 (Metadata on a connection to it).</summary>
    private static async Task<int> LeaderSeenByAsync(BrokerProcess broker, string topic)
    {
        using var raw = await RawKafkaConnection.ConnectAsync(broker.KafkaPort);
        var request = KafkaApis.Metadata.Request.New();
        request.AddElement("Topics").SetString("Name", topic);
        var response = await raw.RequestAsync(KafkaApis.Metadata, 12, request);
        var partitions = Assert.Single(response.GetArray("Topics")!).GetArray("Partitions")!;
        return partitions.Count == 0 ? -1 : partitions[0].GetInt32("LeaderId");
    }

    private static async Task ProduceAsync(string bootstrap, string topic, int from, int count)
    {
        using var producer = Clients.Producer(bootstrap, c =>
        {
            c.Acks = Acks.All;
            c.EnableIdempotence = true;
            c.MessageTimeoutMs = 60_000;
        });
        for (int i = from; i < from + count; i++)
            await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = $"{i}" });
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> done, string what, BrokerCluster cluster)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < until, $"never saw {what}\n{cluster.Diagnostics()}");
            await Task.Delay(250);
        }
    }
}
