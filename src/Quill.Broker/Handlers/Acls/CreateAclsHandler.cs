using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Acls;

/// <summary>CreateAcls (v0-3): one SECURITY_DISABLED result per creation, in request order.</summary>
public sealed class CreateAclsHandler : IApiHandler
{
    public ApiKey ApiKey => ApiKey.CreateAcls;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var response = context.NewResponse();
        foreach (var _ in context.Body.GetArray("Creations") ?? [])
        {
            response.AddElement("Results")
                .SetInt("ErrorCode", (short)KafkaError.SecurityDisabled)
                .SetString("ErrorMessage", NoAuthorizer.Message);
        }
        return ValueTask.FromResult(response);
    }
}
