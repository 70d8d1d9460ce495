using Quill.Broker.Handlers;
using Quill.Broker.Handlers.Transactions;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// The answers of the producer and transaction APIs that need no coordinator: an idempotent producer's epoch bump
/// (KIP-360) and its half-given id and epoch, and AddPartitionsToTxn with partitions the cluster does not have.
/// </summary>
public sealed class TransactionHandlersTests : IDisposable
{
    private readonly HandlerHarness _harness = new();

    public TransactionHandlersTests() =>
        _harness.Services.Metadata.Put(new TopicInfo("t", Guid.NewGuid(), [new PartitionInfo(0, [0], new PartitionState(0, 0, [0], 0))],
            new Dictionary<string, string>()));

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task reinitialising_a_producer_bumps_its_epoch(short version)
    {
        var response = await _harness.Send(new InitProducerIdHandler(_harness.Services), version, body =>
            body.SetString("TransactionalId", null).SetInt("TransactionTimeoutMs", 60000).SetInt("ProducerId", 42).SetInt("ProducerEpoch", 7));
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        Assert.Equal(42, response.GetInt64("ProducerId"));
        Assert.Equal(8, response.GetInt16("ProducerEpoch"));
    }

    [Theory]
    [InlineData(3, 42, -1)]
    [InlineData(5, -1, 3)]
    public async Task a_producer_id_without_an_epoch_is_invalid(short version, long producerId, short epoch)
    {
        var response = await _harness.Send(new InitProducerIdHandler(_harness.Services), version, body =>
            body.SetString("TransactionalId", null).SetInt("ProducerId", producerId).SetInt("ProducerEpoch", epoch));
        Assert.Equal((short)KafkaError.InvalidRequest, response.GetInt16("ErrorCode"));
        Assert.Equal(-1, response.GetInt64("ProducerId"));
        Assert.Equal(0, response.GetInt16("ProducerEpoch"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task unknown_partitions_fail_and_the_others_are_not_attempted(short version)
    {
        var response = await _harness.Send(new AddPartitionsToTxnHandler(_harness.Services), version, body =>
        {
            body.SetString("V3AndBelowTransactionalId", "tx").SetInt("V3AndBelowProducerId", 1).SetInt("V3AndBelowProducerEpoch", 0);
            body.AddElement("V3AndBelowTopics").SetString("Name", "t").SetInt32Array("Partitions", [0, 1, 0]);
            body.AddElement("V3AndBelowTopics").SetString("Name", "u").SetInt32Array("Partitions", [0]);
        });
        var topics = response.GetArray("ResultsByTopicV3AndBelow")!;
        Assert.Equal(["t", "u"], topics.Select(t => t.GetString("Name")));
        Assert.Equal([(0, KafkaError.OperationNotAttempted), (1, KafkaError.UnknownTopicOrPartition)],
            topics[0].GetArray("ResultsByPartition")!.Select(p => (p.GetInt32("PartitionIndex"), (KafkaError)p.GetInt16("PartitionErrorCode"))));
        var u = Assert.Single(topics[1].GetArray("ResultsByPartition")!);
        Assert.Equal((short)KafkaError.UnknownTopicOrPartition, u.GetInt16("PartitionErrorCode"));
    }

    public void Dispose() => _harness.Dispose();
}
