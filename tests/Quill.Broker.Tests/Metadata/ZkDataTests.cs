using Quill.Broker.Config;
using System.Text;
using Quill.Broker.Metadata;

namespace Quill.Broker.Tests.Metadata;

public sealed class ZkDataTests
{
    [Fact]
    public void Topic_ids_print_as_kafka_prints_them()
    {
        // Kafka's Uuid.toString(): URL-safe base64 of the 16 bytes, most significant first, no padding.
        var id = new Guid(Convert.FromHexString("000102030405060708090A0B0C0D0E0F"), bigEndian: true);
        Assert.Equal("AAECAwQFBgcICQoLDA0ODw", ZkData.TopicIdText(id));
        Assert.Equal(id, ZkData.ParseTopicId("AAECAwQFBgcICQoLDA0ODw"));
        var fresh = ZkData.NewTopicId();
        Assert.Equal(22, ZkData.TopicIdText(fresh).Length);
        Assert.Equal(fresh, ZkData.ParseTopicId(ZkData.TopicIdText(fresh)));
    }

    [Fact]
    public void Topic_assignments_round_trip_and_read_kafkas_older_versions()
    {
        var id = ZkData.NewTopicId();
        var json = ZkData.TopicAssignment(id, new Dictionary<int, int[]> { [1] = [0, 2], [0] = [2, 0] });
        Assert.Contains("\"partitions\":{\"0\":[2,0],\"1\":[0,2]}", Encoding.UTF8.GetString(json));
        var (readId, assignment) = ZkData.ParseTopicAssignment("t", json);
        Assert.Equal(id, readId);
        Assert.Equal([2, 0], assignment[0]);

        // Written by Kafka before topic ids (version 1): no id.
        var (noId, old) = ZkData.ParseTopicAssignment("t", "{\"version\":1,\"partitions\":{\"0\":[1]}}"u8.ToArray());
        Assert.Null(noId);
        Assert.Equal([1], old[0]);
    }

    [Fact]
    public void Partition_state_and_registration_match_kafkas_json()
    {
        var state = ZkData.ParsePartitionState(ZkData.PartitionStateJson(new PartitionState(3, 7, [3, 1], 2)), "state");
        Assert.Equal((3, 7, 2), (state.Leader, state.LeaderEpoch, state.ControllerEpoch));
        Assert.Equal([3, 1], state.Isr);
        var kafkaWritten = "{\"controller_epoch\":5,\"leader\":1,\"version\":1,\"leader_epoch\":4,\"isr\":[1,2]}"u8.ToArray();
        Assert.Equal(4, ZkData.ParsePartitionState(kafkaWritten, "state").LeaderEpoch);

        var broker = ZkData.ParseBroker(4, ZkData.BrokerRegistration(new BrokerInfo(4, "10.0.0.1", 9093, "r1"), FakeClocks.New()));
        Assert.Equal((4, "10.0.0.1", 9093, "r1"), (broker.Id, broker.Host, broker.Port, broker.Rack));
        Assert.Equal([new ListenerEndpoint("PLAINTEXT", "10.0.0.1", 9093)], broker.Endpoints);
        var fromKafka = ZkData.ParseBroker(0, """{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://kafka1:9092"],"jmx_port":-1,"host":"kafka1","timestamp":"1","port":9092,"version":4}"""u8.ToArray());
        Assert.Equal(("kafka1", 9092), (fromKafka.Host, fromKafka.Port));
    }

    [Fact]
    public void A_registration_lists_every_advertised_listener_as_kafka_3_writes_it()
    {
        var self = new BrokerInfo(2, "10.0.0.2", 9092, "r2")
        {
            Endpoints = [new("CLIENT", "10.0.0.2", 9092), new("REPLICATION", "10.0.1.2", 9093)],
            SecurityProtocols = new Dictionary<string, string> { ["CLIENT"] = "PLAINTEXT", ["REPLICATION"] = "PLAINTEXT" },
        };
        var json = System.Text.Json.Nodes.JsonNode.Parse(ZkData.BrokerRegistration(self, FakeClocks.New()))!;
        Assert.Equal(5, json["version"]!.GetValue<int>());
        Assert.Equal(["CLIENT://10.0.0.2:9092", "REPLICATION://10.0.1.2:9093"], json["endpoints"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal("PLAINTEXT", json["listener_security_protocol_map"]!["REPLICATION"]!.GetValue<string>());
        Assert.Equal(("10.0.0.2", 9092), (json["host"]!.GetValue<string>(), json["port"]!.GetValue<int>()));
        Assert.Equal("r2", json["rack"]!.GetValue<string>());
        Assert.NotNull(json["features"]);

        var read = ZkData.ParseBroker(2, ZkData.BrokerRegistration(self, FakeClocks.New()));
        Assert.Equal(self.Endpoints, read.Endpoints);
        Assert.Equal(("10.0.1.2", 9093), (read.On("REPLICATION")!.Host, read.On("REPLICATION")!.Port));
        Assert.Null(read.EndpointFor("PLAINTEXT"));

        // Kafka writes host null and port -1 when no listener is PLAINTEXT; the endpoints are what counts.
        var secured = ZkData.ParseBroker(3, """{"features":{},"listener_security_protocol_map":{"INTERNAL":"SASL_PLAINTEXT","EXTERNAL":"SSL"},"endpoints":["INTERNAL://k3:9094","EXTERNAL://[::1]:9095"],"jmx_port":-1,"port":-1,"host":null,"version":5,"timestamp":"1"}"""u8.ToArray());
        Assert.Equal([new("INTERNAL", "k3", 9094), new("EXTERNAL", "::1", 9095)], secured.Endpoints);
        Assert.Equal("SSL", secured.SecurityProtocols["EXTERNAL"]);
        var noPlaintext = System.Text.Json.Nodes.JsonNode.Parse(ZkData.BrokerRegistration(secured, FakeClocks.New()))!;
        Assert.Equal(-1, noPlaintext["port"]!.GetValue<int>());
        Assert.Null(noPlaintext["host"]);
        Assert.Equal("EXTERNAL://[::1]:9095", noPlaintext["endpoints"]![1]!.GetValue<string>());
    }

    [Theory]
    [InlineData("orders", true)]
    [InlineData("a.b_c-D9", true)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("has space", false)]
    [InlineData("slash/name", false)]
    public void Topic_names_follow_kafkas_rules(string name, bool valid)
    {
        Assert.Equal(valid, TopicNames.IsValid(name));
        Assert.False(TopicNames.IsValid(new string('x', 250)));
        Assert.True(TopicNames.IsValid(new string('x', 249)));
    }
}
