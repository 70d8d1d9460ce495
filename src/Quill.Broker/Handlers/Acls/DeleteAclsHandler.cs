using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Acls;

/// <summary>DeleteAcls (v0-3): one SECURITY_DISABLED result per filter, in request order, matching no ACLs.</summary>
public sealed class DeleteAclsHandler : ApiHandler<DeleteAclsRequestData, DeleteAclsResponseData>
{
    public override ApiKey ApiKey => ApiKey.DeleteAcls;

    public override ValueTask<DeleteAclsResponseData> HandleAsync(DeleteAclsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new DeleteAclsResponseData();
        foreach (var _ in request.Filters)
            response.FilterResults.Add(new DeleteAclsResponseData.FilterResultsItem { ErrorCode = (short)KafkaError.SecurityDisabled, ErrorMessage = NoAuthorizer.Message });
        return ValueTask.FromResult(response);
    }
}
