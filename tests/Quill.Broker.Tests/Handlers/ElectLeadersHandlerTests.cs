using Quill.Broker.Handlers;
using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// ElectLeaders' own validation: an unknown election type is INVALID_REQUEST before the controller is asked. The
/// elections themselves are the controller's (LeaderElectionTests in the compat tests, against a real cluster).
/// </summary>
public sealed class ElectLeadersHandlerTests : IDisposable
{
    private readonly HandlerHarness _harness = new();
    private readonly ElectLeadersHandler _handler;

    public ElectLeadersHandlerTests() => _handler = new ElectLeadersHandler(_harness.Services);

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
