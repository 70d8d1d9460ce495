using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Acls;

/// <summary>DeleteAcls (v0-3): one SECURITY_DISABLED result per filter, in request order, matching no ACLs.</summary>
public sealed class DeleteAclsHandler : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DeleteAcls;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var response = context.NewResponse();
        foreach (var _ in context.Body.GetArray("Filters") ?? [])
        {
            response.AddElement("FilterResults")
                .SetInt("ErrorCode", (short)KafkaError.SecurityDisabled)
                .SetString("ErrorMessage", NoAuthorizer.Message);
        }
        return ValueTask.FromResult(response);
    }
}
