using Quill.Broker.Handlers;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Handlers;

/// <summary>DescribeCluster in every advertised version: this broker and its endpoint types, as Kafka answers them.</summary>
public sealed class DescribeClusterHandlerTests : IDisposable
{
    private readonly HandlerHarness _harness = new();
    private readonly DescribeClusterHandler _handler;

    public DescribeClusterHandlerTests() => _handler = new DescribeClusterHandler(_harness.Services);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task the_brokers_are_described_with_their_endpoints(short version)
    {
        var response = await _harness.Send(_handler, version, body =>
        {
            if (version >= 2) body.SetBool("IncludeFencedBrokers", true);
        });
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        var broker = Assert.Single(response.GetArray("Brokers")!);
        Assert.Equal(_harness.Services.Self.Id, broker.GetInt32("BrokerId"));
        Assert.False(broker.GetBool("IsFenced"));
        if (version >= 1) Assert.Equal(1, response.GetInt8("EndpointType"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task asking_for_controller_endpoints_answers_mismatched_endpoint_type(short version)
    {
        var response = await _harness.Send(_handler, version, body => body.SetInt("EndpointType", 2));
        Assert.Equal((short)KafkaError.MismatchedEndpointType, response.GetInt16("ErrorCode"));
        Assert.Empty(response.GetArray("Brokers")!);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task unknown_endpoint_types_answer_unsupported_endpoint_type(short version)
    {
        var response = await _harness.Send(_handler, version, body => body.SetInt("EndpointType", 123));
        Assert.Equal((short)KafkaError.UnsupportedEndpointType, response.GetInt16("ErrorCode"));
        Assert.Equal("Unsupported endpoint type 123", response.GetString("ErrorMessage"));
    }

    public void Dispose() => _harness.Dispose();
}
