using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// Three `quill broker start` processes, each with a CLIENT and a REPLICATION listener on their own ports
/// (inter.broker.listener.name=REPLICATION), broker 3 also with an EXTERNAL one. Broker 1 advertises its REPLICATION
/// listener at a <see cref="FaultProxy"/>, so every connection another broker makes to it goes through the proxy and
/// cutting the proxy cuts replication from broker 1 while its clients carry on. Driven by Confluent.Kafka, kcat, kazoo
/// and raw requests.
/// </summary>
public sealed class ListenerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);

    private sealed record Ports(Dictionary<int, int> Client, Dictionary<int, int> Replication, Dictionary<int, int> AdvertisedReplication, int External);

    private static async Task<(BrokerCluster Cluster, FaultProxy Proxy, Ports Ports)> StartAsync()
    {
        var client = new Dictionary<int, int>();
        var replication = new Dictionary<int, int>();
        for (int id = 1; id <= 3; id++) (client[id], replication[id]) = (FreePort.Get(), FreePort.Get());
        int proxyPort = FreePort.Get(), external = FreePort.Get();
        var advertised = new Dictionary<int, int>(replication) { [1] = proxyPort };
        var proxy = new FaultProxy(new IPEndPoint(IPAddress.Loopback, replication[1]), proxyPort);
        try
        {
            var cluster = await BrokerCluster.StartAsync(3, new Dictionary<string, string>
            {
                ["listener.security.protocol.map"] = "CLIENT:PLAINTEXT,REPLICATION:PLAINTEXT,EXTERNAL:PLAINTEXT",
                ["inter.broker.listener.name"] = "REPLICATION",
                ["replica.lag.time.max.ms"] = "3000",
            }, id => new Dictionary<string, string>
            {
                ["listeners"] = $"CLIENT://127.0.0.1:{client[id]},REPLICATION://127.0.0.1:{replication[id]}" + (id == 3 ? $",EXTERNAL://127.0.0.1:{external}" : ""),
                ["advertised.listeners"] = $"CLIENT://127.0.0.1:{client[id]},REPLICATION://127.0.0.1:{advertised[id]}" + (id == 3 ? $",EXTERNAL://127.0.0.1:{external}" : ""),
            }, kafkaPort: id => client[id]);
            await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == 3 && c.Controller > 0, Deadline, "3 brokers and a controller");
            return (cluster, proxy, new Ports(client, replication, advertised, external));
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    private static async Task<StructValue> MetadataAsync(int port, short version)
    {
        using var connection = await RawKafkaConnection.ConnectAsync(port);
        return await connection.RequestAsync(KafkaApis.Metadata, version, KafkaApis.Metadata.Request.New().SetArray("Topics", null));
    }

    private static async Task<(int Node, int Port)> FindCoordinatorAsync(int port, string group)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            using var connection = await RawKafkaConnection.ConnectAsync(port);
            var response = await connection.RequestAsync(KafkaApis.FindCoordinator, 3,
                KafkaApis.FindCoordinator.Request.New().SetString("Key", group).SetInt("KeyType", 0));
            if (response.GetInt16("ErrorCode") == 0) return (response.GetInt32("NodeId"), response.GetInt32("Port"));
            Assert.True(DateTime.UtcNow < deadline, $"FindCoordinator on port {port} kept answering {response.GetInt16("ErrorCode")}");
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task Clients_see_the_addresses_of_the_listener_they_came_in_on_and_brokers_register_every_listener()
    {
        var (cluster, proxy, ports) = await StartAsync();
        await using var _ = cluster;
        await using var __ = proxy;

        // What Keeper holds: every advertised listener, as Kafka 3.x registers them.
        string registration = await cluster.KazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            print(zk.get('/brokers/ids/3')[0].decode())
            zk.stop()
            """);
        using (var json = JsonDocument.Parse(registration))
        {
            var root = json.RootElement;
            Assert.Equal(5, root.GetProperty("version").GetInt32());
            Assert.Equal([$"CLIENT://127.0.0.1:{ports.Client[3]}", $"REPLICATION://127.0.0.1:{ports.Replication[3]}", $"EXTERNAL://127.0.0.1:{ports.External}"],
                root.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("PLAINTEXT", root.GetProperty("listener_security_protocol_map").GetProperty("REPLICATION").GetString());
            Assert.Equal(ports.Client[3], root.GetProperty("port").GetInt32());
            Assert.Equal("rack-3", root.GetProperty("rack").GetString());
        }

        // Bootstrapped on the client listener, Confluent.Kafka sees client ports only.
        string clientBootstrap = string.Join(',', ports.Client.Values.Select(p => $"127.0.0.1:{p}"));
        using (var admin = Clients.Admin(clientBootstrap))
        {
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(20));
            Assert.Equal(ports.Client.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)), metadata.Brokers.OrderBy(b => b.BrokerId).Select(b => (b.BrokerId, b.Port)));
        }
        // kcat bootstrapped on broker 2's replication listener sees that listener's addresses (broker 1's proxy included).
        var list = await ToolRunner.RunAsync("kcat", ["-b", $"127.0.0.1:{ports.Replication[2]}", "-L"]);
        Assert.True(list.Succeeded, list.ToString());
        foreach (var (id, port) in ports.AdvertisedReplication) Assert.Contains($"broker {id} at 127.0.0.1:{port}", list.StdOut);
        Assert.DoesNotContain($":{ports.Client[1]}", list.StdOut);

        // DescribeCluster and FindCoordinator answer the same way.
        var described = await BrokerCluster.DescribeAsync(cluster.Brokers[2]);
        Assert.Equal(ports.Client.OrderBy(p => p.Key).Select(p => p.Value), described.Nodes.Select(n => n.Port));
        using (var raw = await RawKafkaConnection.ConnectAsync(ports.Replication[3]))
        {
            var response = await raw.RequestAsync(KafkaApis.DescribeCluster, 0, KafkaApis.DescribeCluster.Request.New());
            Assert.Equal(ports.AdvertisedReplication.OrderBy(p => p.Key).Select(p => p.Value),
                response.GetArray("Brokers")!.OrderBy(b => b.GetInt32("BrokerId")).Select(b => b.GetInt32("Port")));
        }
        string group = Clients.NewTopic("group");
        var onClient = await FindCoordinatorAsync(ports.Client[2], group);
        var onReplication = await FindCoordinatorAsync(ports.Replication[2], group);
        Assert.Equal(onClient.Node, onReplication.Node);
        Assert.Equal((ports.Client[onClient.Node], ports.AdvertisedReplication[onClient.Node]), (onClient.Port, onReplication.Port));

        // On a listener only broker 3 has, the others are left out, and a partition broker 1 leads has no leader to
        // offer: LISTENER_NOT_FOUND from Metadata v6, LEADER_NOT_AVAILABLE before (as Kafka answers).
        string topic = Clients.NewTopic("led-by-1");
        using (var admin = Clients.Admin(clientBootstrap))
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [1, 2, 3] } }]);
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == 1, Deadline, "broker 1 leading");
        foreach (var (version, error) in new[] { ((short)12, KafkaError.ListenerNotFound), ((short)5, KafkaError.LeaderNotAvailable) })
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (true)
            {
                var metadata = await MetadataAsync(ports.External, version);
                Assert.Equal([(3, ports.External)], metadata.GetArray("Brokers")!.Select(b => (b.GetInt32("NodeId"), b.GetInt32("Port"))));
                var partition = metadata.GetArray("Topics")!.FirstOrDefault(t => t.GetString("Name") == topic)?.GetArray("Partitions")![0];
                if (partition is not null)
                {
                    Assert.Equal(((short)error, -1), (partition.GetInt16("ErrorCode"), partition.GetInt32("LeaderId")));
                    Assert.Equal([1, 2, 3], partition.GetInt32Array("ReplicaNodes")!);
                    break;
                }
                Assert.True(DateTime.UtcNow < deadline, $"broker 3 never listed {topic}");
                await Task.Delay(250);
            }
        }
    }

    [Fact]
    public async Task Cutting_the_replication_listener_stops_replication_but_not_clients_and_the_followers_rejoin_once_healed()
    {
        var (cluster, proxy, ports) = await StartAsync();
        await using var _ = cluster;
        await using var __ = proxy;
        string clientBootstrap = string.Join(',', ports.Client.Values.Select(p => $"127.0.0.1:{p}"));
        string topic = Clients.NewTopic("replication-cut");
        using (var admin = Clients.Admin(clientBootstrap))
            await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = -1, ReplicasAssignments = new() { [0] = [1, 2, 3] } }]);
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == 1 && s.Isr.Length == 3, Deadline, "broker 1 leading, all three in sync");

        var values = new List<string>();
        using var producer = Clients.Producer(clientBootstrap, c => c.Acks = Acks.Leader);
        async Task ProduceAsync(int count)
        {
            for (int i = 0; i < count; i++)
            {
                string value = $"v{values.Count}";
                var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = value });
                Assert.Equal(values.Count, result.Offset.Value);
                values.Add(value);
            }
        }

        await ProduceAsync(20);
        // The followers fetch from broker 1 through its advertised REPLICATION address, the proxy.
        var until = DateTime.UtcNow + Deadline;
        while (proxy.Connections < 2)
        {
            Assert.True(DateTime.UtcNow < until, $"the followers never connected to broker 1's replication listener\n{cluster.Diagnostics()}");
            await Task.Delay(100);
        }

        proxy.Cut(CutMode.BlackHole);
        // Clients go on through broker 1's client listener; the followers fall behind and leave the ISR.
        await ProduceAsync(20);
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == 1 && s.Isr.SequenceEqual([1]), Deadline,
            "the followers out of the ISR once replica.lag.time.max.ms passed without their fetches");
        await ProduceAsync(20);
        Assert.Equal(values, Clients.ConsumeFromStart(clientBootstrap, topic, 1, values.Count).Select(r => r.Message.Value));
        Assert.True(BrokerCluster.ReplicaRecords(cluster.Brokers[2], topic, 0).Count < values.Count, "broker 2 copied records past the cut");

        proxy.Heal();
        await cluster.WaitForPartitionStateAsync(topic, 0, s => s.Leader == 1 && s.Isr.Length == 3, Deadline, "both followers back in the ISR");
        // Nothing acknowledged is lost: every replica holds every record at its offset.
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var copies = cluster.Brokers.ToDictionary(b => b.Key, b => BrokerCluster.ReplicaRecords(b.Value, topic, 0));
            if (copies.Values.All(c => c.Select(r => r.Value).SequenceEqual(values) && c.Select(r => r.Offset).SequenceEqual(Enumerable.Range(0, values.Count).Select(i => (long)i))))
                break;
            Assert.True(DateTime.UtcNow < deadline, "the replicas never all held every record: " + string.Join("; ", copies.Select(c => $"broker {c.Key} has {c.Value.Count}")));
            await Task.Delay(250);
        }
        Assert.Equal(values, Clients.ConsumeFromStart(clientBootstrap, topic, 1, values.Count).Select(r => r.Message.Value));
    }
}
