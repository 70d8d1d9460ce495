using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// ApiVersions: every API that has a handler, with exactly the versions described for it (all of which work). An
/// unsupported ApiVersions version is answered by the network layer with <see cref="UnsupportedVersionResponse"/>.
/// </summary>
public sealed class ApiVersionsHandler(Func<IReadOnlyList<Api>> supported) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.ApiVersions;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var response = context.NewResponse();
        AddApiKeys(response, supported());
        return ValueTask.FromResult(response);
    }

    /// <summary>UNSUPPORTED_VERSION with the supported ranges, for encoding as ApiVersions v0.</summary>
    public static StructValue UnsupportedVersionResponse(IReadOnlyList<Api> supported)
    {
        var response = KafkaApis.ApiVersions.Response.New();
        response.SetInt("ErrorCode", (short)KafkaError.UnsupportedVersion);
        AddApiKeys(response, supported);
        return response;
    }

    private static void AddApiKeys(StructValue response, IReadOnlyList<Api> supported)
    {
        foreach (var api in supported)
            response.AddElement("ApiKeys")
                .SetInt("ApiKey", (short)api.Key)
                .SetInt("MinVersion", api.MinVersion)
                .SetInt("MaxVersion", api.MaxVersion);
    }
}
