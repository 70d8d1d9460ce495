using Quill.Broker.Handlers;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Handlers;

/// <summary>Metadata answers for topics this broker does not know, in the versions where their shape differs.</summary>
public sealed class MetadataHandlerTests : IDisposable
{
    private readonly HandlerHarness _harness = new();
    private readonly MetadataHandler _handler;

    public MetadataHandlerTests() => _handler = new MetadataHandler(_harness.Services);

    /// <summary>A topic asked for by an unknown id (v10+): the name is null from v12 and empty before, where it cannot be null.</summary>
    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public async Task an_unknown_topic_id_is_answered_with_its_id(short version)
    {
        var id = Guid.NewGuid();
        var response = await _harness.Send(_handler, version, body =>
            body.SetBool("AllowAutoTopicCreation", false).AddElement("Topics").SetUuid("TopicId", id).SetString("Name", null));
        var topic = Assert.Single(response.GetArray("Topics")!);
        Assert.Equal((short)KafkaError.UnknownTopicId, topic.GetInt16("ErrorCode"));
        Assert.Equal(id, topic.GetUuid("TopicId"));
        Assert.Equal(version >= 12 ? null : "", topic.GetString("Name"));
        Assert.Empty(topic.GetArray("Partitions")!);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(9)]
    [InlineData(12)]
    public async Task an_unknown_topic_name_is_not_created_when_the_request_says_no(short version)
    {
        var response = await _harness.Send(_handler, version, body =>
            body.SetBool("AllowAutoTopicCreation", false).AddElement("Topics").SetString("Name", "absent"));
        var topic = Assert.Single(response.GetArray("Topics")!);
        Assert.Equal((short)KafkaError.UnknownTopicOrPartition, topic.GetInt16("ErrorCode"));
        Assert.Equal("absent", topic.GetString("Name"));
    }

    public void Dispose() => _harness.Dispose();
}
