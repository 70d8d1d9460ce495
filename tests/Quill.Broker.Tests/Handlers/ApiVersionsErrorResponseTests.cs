using Quill.Broker.Handlers;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// ApiVersions failing unexpectedly answers UNKNOWN_SERVER_ERROR and no API keys, in every version (the broker adds
/// its own ApiVersions handler, so the wire tests of the other APIs' error responses cannot replace it).
/// </summary>
public sealed class ApiVersionsErrorResponseTests : IDisposable
{
    private readonly HandlerHarness _harness = new();

    private sealed class FailingApiVersionsHandler : ApiHandler<ApiVersionsRequestData, ApiVersionsResponseData>
    {
        public override ApiKey ApiKey => ApiKey.ApiVersions;

        public override ValueTask<ApiVersionsResponseData> HandleAsync(ApiVersionsRequestData request, RequestContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("failed on purpose");
    }

    [Fact]
    public async Task A_failing_api_versions_answers_unknown_server_error_in_every_version()
    {
        for (short version = KafkaApis.ApiVersions.MinVersion; version <= KafkaApis.ApiVersions.MaxVersion; version++)
        {
            var response = await _harness.Send(new FailingApiVersionsHandler(), version, _ => { });
            Assert.Equal((short)KafkaError.UnknownServerError, response.GetInt16("ErrorCode"));
            Assert.Empty(response.GetArray("ApiKeys")!);
        }
    }

    public void Dispose() => _harness.Dispose();
}
