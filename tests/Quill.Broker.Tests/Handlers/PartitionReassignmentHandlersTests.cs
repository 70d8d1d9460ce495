using Quill.Broker.Handlers;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// AlterPartitionReassignments checked per partition with Kafka's errors and this broker's messages (success without
/// a message), and ListPartitionReassignments, which never has one in progress.
/// </summary>
public sealed class PartitionReassignmentHandlersTests : IDisposable
{
    private readonly HandlerHarness _harness = new();

    public PartitionReassignmentHandlersTests() =>
        _harness.Services.Metadata.Put(new TopicInfo("t", Guid.NewGuid(),
            [new PartitionInfo(0, [0], new PartitionState(0, 0, [0], 0)), new PartitionInfo(1, [1, 0], new PartitionState(0, 0, [0], 0))],
            new Dictionary<string, string>()));

    private async Task<StructValue> Reassign(string topic, int partition, int[]? replicas)
    {
        var response = await _harness.Send(new AlterPartitionReassignmentsHandler(_harness.Services), 0, body =>
            body.AddElement("Topics").SetString("Name", topic).AddElement("Partitions").SetInt("PartitionIndex", partition).SetInt32Array("Replicas", replicas));
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        Assert.Equal("", response.GetString("ErrorMessage"));
        var topicResult = Assert.Single(response.GetArray("Responses")!);
        Assert.Equal(topic, topicResult.GetString("Name"));
        var result = Assert.Single(topicResult.GetArray("Partitions")!);
        Assert.Equal(partition, result.GetInt32("PartitionIndex"));
        return result;
    }

    public static TheoryData<string, int, int[]?, KafkaError, string?> Cases => new()
    {
        { "t", 0, null, KafkaError.NoReassignmentInProgress, "No partition reassignment is in progress." },
        { "t", 0, [], KafkaError.InvalidReplicaAssignment, "Invalid replica assignment: the replica list is empty." },
        { "t", 0, [0, 0], KafkaError.InvalidReplicaAssignment, "Invalid replica assignment: the replica list [0, 0] has duplicates." },
        { "t", 0, [0, -1], KafkaError.InvalidReplicaAssignment, "Invalid replica assignment: the replica list [0, -1] has a negative broker id." },
        { "t", 0, [0, 5], KafkaError.InvalidReplicaAssignment, "Invalid replica assignment: brokers [5] of [0, 5] are not alive (live brokers: [0])." },
        { "u", 0, [0], KafkaError.UnknownTopicOrPartition, "The partition does not exist." },
        { "t", 9, [0], KafkaError.UnknownTopicOrPartition, "The partition does not exist." },
        { "t", 0, [0], KafkaError.None, null },
        { "t", 1, [0, 1], KafkaError.InvalidReplicaAssignment, "Invalid replica assignment: moving t-1 from [1, 0] to [0, 1] needs replication, which this broker does not do." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task each_partition_of_a_reassignment_is_checked(string topic, int partition, int[]? replicas, KafkaError error, string? message)
    {
        var result = await Reassign(topic, partition, replicas);
        Assert.Equal((short)error, result.GetInt16("ErrorCode"));
        Assert.Equal(message, result.GetString("ErrorMessage"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task no_reassignment_is_ever_listed(bool all)
    {
        var response = await _harness.Send(new ListPartitionReassignmentsHandler(), 0, body =>
        {
            if (all) body.SetArray("Topics", null);
            else body.AddElement("Topics").SetString("Name", "t").SetInt32Array("PartitionIndexes", [0, 1, 7]);
        });
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        Assert.Equal("", response.GetString("ErrorMessage"));
        Assert.Empty(response.GetArray("Topics")!);
    }

    public void Dispose() => _harness.Dispose();
}
