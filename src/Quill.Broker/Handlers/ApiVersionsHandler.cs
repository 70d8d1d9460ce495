using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// ApiVersions: every API that has a handler, with exactly the versions described for it (all of which work). An
/// unsupported ApiVersions version is answered by the network layer with <see cref="UnsupportedVersionResponse"/>.
/// </summary>
public sealed class ApiVersionsHandler(Func<IReadOnlyList<Api>> supported) : ApiHandler<ApiVersionsRequestData, ApiVersionsResponseData>
{
    public override ApiKey ApiKey => ApiKey.ApiVersions;

    public override ValueTask<ApiVersionsResponseData> HandleAsync(ApiVersionsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new ApiVersionsResponseData();
        AddApiKeys(response, supported());
        return ValueTask.FromResult(response);
    }

    /// <summary>UNSUPPORTED_VERSION with the supported ranges, for encoding as ApiVersions v0.</summary>
    public static ApiVersionsResponseData UnsupportedVersionResponse(IReadOnlyList<Api> supported)
    {
        var response = new ApiVersionsResponseData { ErrorCode = (short)KafkaError.UnsupportedVersion };
        AddApiKeys(response, supported);
        return response;
    }

    private static void AddApiKeys(ApiVersionsResponseData response, IReadOnlyList<Api> supported)
    {
        foreach (var api in supported)
            response.ApiKeys.Add(new ApiVersionsResponseData.ApiKeysItem { ApiKey = (short)api.Key, MinVersion = api.MinVersion, MaxVersion = api.MaxVersion });
    }
}
