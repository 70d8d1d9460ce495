using Quill.Broker.Handlers;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// ElectLeaders in every version: ELECTION_NOT_NEEDED where the preferred replica leads, the refusals where an
/// election would be needed, UNKNOWN_TOPIC_OR_PARTITION, and a request for all partitions listing only the others.
/// </summary>
public sealed class ElectLeadersHandlerTests : IDisposable
{
    private readonly HandlerHarness _harness = new();
    private readonly ElectLeadersHandler _handler;

    public ElectLeadersHandlerTests()
    {
        _harness.Services.Metadata.Put(new TopicInfo("t", Guid.NewGuid(),
        [
            new PartitionInfo(0, [0], new PartitionState(0, 0, [0], 0)),     // the preferred replica leads
            new PartitionInfo(1, [1, 0], new PartitionState(0, 0, [0], 0)),  // another replica leads
            new PartitionInfo(2, [1], new PartitionState(-1, 0, [], 0)),     // no leader
        ], new Dictionary<string, string>()));
        _handler = new ElectLeadersHandler(_harness.Services);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    public async Task each_partition_asked_for_is_answered(short version, sbyte type)
    {
        var response = await _harness.Send(_handler, version, body =>
        {
            body.SetInt("ElectionType", type);
            body.AddElement("TopicPartitions").SetString("Topic", "t").SetInt32Array("Partitions", [0, 1, 2, 9, 0]);
            body.AddElement("TopicPartitions").SetString("Topic", "u").SetInt32Array("Partitions", [0]);
        });
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        var topics = response.GetArray("ReplicaElectionResults")!;
        Assert.Equal(["t", "u"], topics.Select(t => t.GetString("Topic")));
        var t = topics[0].GetArray("PartitionResult")!;
        Assert.Equal([0, 1, 2, 9], t.Select(p => p.GetInt32("PartitionId")));
        var expected = type == 0
            ? new (KafkaError, string)[]
            {
                (KafkaError.ElectionNotNeeded, "Leader election not needed for topic partition."),
                (KafkaError.PreferredLeaderNotAvailable, "The preferred leader of t-1 cannot take over: replicas are not replicated."),
                (KafkaError.PreferredLeaderNotAvailable, "The preferred leader of t-2 cannot take over: replicas are not replicated."),
                (KafkaError.UnknownTopicOrPartition, "The partition does not exist."),
            }
            :
            [
                (KafkaError.ElectionNotNeeded, "Leader election not needed for topic partition."),
                (KafkaError.ElectionNotNeeded, "Leader election not needed for topic partition."),
                (KafkaError.EligibleLeadersNotAvailable, "No live replica of t-2 can lead."),
                (KafkaError.UnknownTopicOrPartition, "The partition does not exist."),
            ];
        Assert.Equal(expected, t.Select(p => ((KafkaError)p.GetInt16("ErrorCode"), p.GetString("ErrorMessage")!)));
        var u = Assert.Single(topics[1].GetArray("PartitionResult")!);
        Assert.Equal((short)KafkaError.UnknownTopicOrPartition, u.GetInt16("ErrorCode"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task asking_for_all_partitions_lists_only_those_needing_an_election(short version)
    {
        var response = await _harness.Send(_handler, version, body => body.SetArray("TopicPartitions", null));
        var topic = Assert.Single(response.GetArray("ReplicaElectionResults")!);
        Assert.Equal("t", topic.GetString("Topic"));
        Assert.Equal([1, 2], topic.GetArray("PartitionResult")!.Select(p => p.GetInt32("PartitionId")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task unknown_election_types_are_answered_invalid_request(short version)
    {
        var response = await _harness.Send(_handler, version, body =>
            body.SetInt("ElectionType", 2).AddElement("TopicPartitions").SetString("Topic", "t").SetInt32Array("Partitions", [0]));
        Assert.Equal((short)KafkaError.InvalidRequest, response.GetInt16("ErrorCode"));
        Assert.Empty(response.GetArray("ReplicaElectionResults")!);
    }

    public void Dispose() => _harness.Dispose();
}
