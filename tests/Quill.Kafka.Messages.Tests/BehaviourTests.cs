using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Messages.Tests;

/// <summary>What the generated classes do beyond matching the codec: refuse what the wire cannot say.</summary>
public class BehaviourTests
{
    [Fact]
    public void AVersionNotDescribedIsRefusedBothWays()
    {
        using var writer = new KafkaWriter();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new FetchRequestData().Write(writer, 18));
        Assert.Contains("FetchRequest has no version 18 (valid: 0-17)", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FetchRequestData().Write(writer, -1));
        var read = Assert.Throws<KafkaProtocolException>(() => FetchRequestData.Read(new byte[64], 18));
        Assert.Equal("FetchRequest has no version 18 (valid: 0-17)", read.Message);
    }

    [Fact]
    public void NullIsRefusedWhereTheVersionCannotCarryIt()
    {
        using var writer = new KafkaWriter();
        // Topics is nullable from v1: null means every topic.
        var metadata = new MetadataRequestData { Topics = null };
        metadata.Write(writer, 1);
        var e = Assert.Throws<InvalidOperationException>(() => metadata.Write(writer, 0));
        Assert.Contains("MetadataRequest.Topics", e.Message);

        // JoinGroup's ProtocolName is nullable only from v7.
        var join = new JoinGroupResponseData { ProtocolName = null };
        join.Write(writer, 7);
        Assert.Throws<InvalidOperationException>(() => join.Write(writer, 6));

        // Never nullable: a property typed non-null that was set to null anyway.
        var produce = new ProduceRequestData { TopicData = { new() { Name = null! } } };
        Assert.Throws<InvalidOperationException>(() => produce.Write(writer, 3));
        var elements = new DescribeGroupsRequestData { Groups = { "a", null! } };
        Assert.Throws<InvalidOperationException>(() => elements.Write(writer, 0));
    }

    [Fact]
    public void ValuesAVersionDoesNotCarryAreLeftOutAsTheCodecDoes()
    {
        // ThrottleTimeMs is v1+: handlers set it regardless of the version asked for.
        var response = new HeartbeatResponseData { ThrottleTimeMs = 100, ErrorCode = 27 };
        using var writer = new KafkaWriter();
        response.Write(writer, 0);
        Assert.Equal(new byte[] { 0x00, 0x1b }, writer.ToArray());
    }

    [Fact]
    public void ErrorsNameTheFieldAsTheCodecDoes()
    {
        // A Produce v3 body cut inside the first partition's records.
        var request = new ProduceRequestData { Acks = -1, TopicData = { new() { Name = "t", PartitionData = { new() { Index = 2, Records = new byte[10] } } } } };
        using var writer = new KafkaWriter();
        request.Write(writer, 3);
        var cut = writer.WrittenMemory[..^3];
        var e = Assert.Throws<KafkaProtocolException>(() => ProduceRequestData.Read(cut, 3));
        Assert.StartsWith("ProduceRequest v3, field TopicData[0].PartitionData[0].Records: ", e.Message);
        Assert.Equal("TopicData[0].PartitionData[0].Records", e.FieldPath);
    }

    [Fact]
    public void UnknownTaggedFieldsSurviveAReadAndAWrite()
    {
        var response = new FetchResponseData
        {
            NodeEndpoints = { new() { NodeId = 1, Host = "h", Port = 9092 } },
            UnknownTaggedFields = [new RawTaggedField(1, new byte[] { 7 }), new RawTaggedField(200, new byte[300])],
        };
        using var writer = new KafkaWriter();
        response.Write(writer, 16);
        var read = FetchResponseData.Read(writer.ToArray(), 16);
        Assert.Equal([1, 200], read.UnknownTaggedFields!.Select(f => f.Tag));
        Assert.Equal(300, read.UnknownTaggedFields![1].Data.Length);
        Assert.Equal("h", read.NodeEndpoints[0].Host);
        using var again = new KafkaWriter();
        read.Write(again, 16);
        Assert.Equal(writer.ToArray(), again.ToArray());
    }

    [Fact]
    public void TheCatalogReadsAndMakesEveryApi()
    {
        foreach (var api in KafkaApis.All)
        {
            var request = KafkaMessages.NewRequest(api.Key);
            var response = KafkaMessages.NewResponse(api.Key);
            Assert.Equal(api.Key, request.ApiKey);
            Assert.Equal(api.Key, response.ApiKey);
            Assert.Equal(api.Request.Name + "Data", request.GetType().Name);
            Assert.Equal(api.Response.Name + "Data", response.GetType().Name);
            using var writer = new KafkaWriter();
            request.Write(writer, api.MaxVersion);
            var reader = new KafkaReader(writer.WrittenMemory);
            Assert.IsType(request.GetType(), KafkaMessages.ReadRequest(api.Key, ref reader, api.MaxVersion));
            Assert.True(reader.AtEnd);
        }
        Assert.Throws<KafkaProtocolException>(() =>
        {
            var reader = new KafkaReader(Array.Empty<byte>());
            KafkaMessages.ReadRequest((ApiKey)999, ref reader, 0);
        });
    }
}
