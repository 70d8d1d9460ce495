using Quill.Broker.Handlers;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// The topic admin APIs' answers that need no controller, in every version: duplicate topics in CreateTopics and
/// CreatePartitions, and DeleteTopics of topics the cluster does not have, by name or by id.
/// </summary>
public sealed class TopicAdminHandlersTests : IDisposable
{
    private readonly HandlerHarness _harness = new();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public async Task create_topics_refuses_duplicate_names(short version)
    {
        var response = await _harness.Send(new CreateTopicsHandler(_harness.Services), version, body =>
        {
            body.AddElement("Topics").SetString("Name", "a").SetInt("NumPartitions", 1).SetInt("ReplicationFactor", 1);
            body.AddElement("Topics").SetString("Name", "a").SetInt("NumPartitions", 2).SetInt("ReplicationFactor", 1);
        });
        var topics = response.GetArray("Topics")!;
        Assert.Equal(2, topics.Count);
        Assert.All(topics, t =>
        {
            Assert.Equal("a", t.GetString("Name"));
            Assert.Equal((short)KafkaError.InvalidRequest, t.GetInt16("ErrorCode"));
            Assert.Equal(version >= 1 ? "Create topics request from client contains a duplicate topic: a" : "", t.GetString("ErrorMessage"));
            Assert.Equal(Guid.Empty, t.GetUuid("TopicId"));
            Assert.Equal(-1, t.GetInt32("NumPartitions"));
            Assert.Equal(-1, t.GetInt16("ReplicationFactor"));
            if (version >= 5) Assert.Null(t.GetArray("Configs"));
            else Assert.Empty(t.GetArray("Configs")!);
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task create_partitions_refuses_duplicate_names(short version)
    {
        var response = await _harness.Send(new CreatePartitionsHandler(_harness.Services), version, body =>
        {
            body.AddElement("Topics").SetString("Name", "a").SetInt("Count", 3).SetArray("Assignments", null);
            body.AddElement("Topics").SetString("Name", "a").SetInt("Count", 4).SetArray("Assignments", null);
        });
        var results = response.GetArray("Results")!;
        Assert.Equal(2, results.Count);
        Assert.All(results, r =>
        {
            Assert.Equal("a", r.GetString("Name"));
            Assert.Equal((short)KafkaError.InvalidRequest, r.GetInt16("ErrorCode"));
            Assert.Equal("Duplicate topic in request.", r.GetString("ErrorMessage"));
        });
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task delete_topics_of_unknown_names_answers_unknown_topic_or_partition(short version)
    {
        var response = await _harness.Send(new DeleteTopicsHandler(_harness.Services), version, body =>
        {
            if (version >= 6) body.AddElement("Topics").SetString("Name", "x");
            else body.SetStringArray("TopicNames", ["x"]);
        });
        var result = Assert.Single(response.GetArray("Responses")!);
        Assert.Equal("x", result.GetString("Name"));
        Assert.Equal(Guid.Empty, result.GetUuid("TopicId"));
        Assert.Equal((short)KafkaError.UnknownTopicOrPartition, result.GetInt16("ErrorCode"));
        Assert.Equal(version >= 5 ? "This server does not host this topic-partition." : null, result.GetString("ErrorMessage"));
    }

    [Fact]
    public async Task delete_topics_of_an_unknown_id_answers_unknown_topic_id()
    {
        var id = Guid.NewGuid();
        var response = await _harness.Send(new DeleteTopicsHandler(_harness.Services), 6, body =>
            body.AddElement("Topics").SetString("Name", null).SetUuid("TopicId", id));
        var result = Assert.Single(response.GetArray("Responses")!);
        Assert.Null(result.GetString("Name"));
        Assert.Equal(id, result.GetUuid("TopicId"));
        Assert.Equal((short)KafkaError.UnknownTopicId, result.GetInt16("ErrorCode"));
        Assert.Equal("This server does not host this topic ID.", result.GetString("ErrorMessage"));
    }

    public void Dispose() => _harness.Dispose();
}
