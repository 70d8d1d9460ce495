using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Acls;

/// <summary>CreateAcls (v0-3): one SECURITY_DISABLED result per creation, in request order.</summary>
public sealed class CreateAclsHandler : ApiHandler<CreateAclsRequestData, CreateAclsResponseData>
{
    public override ApiKey ApiKey => ApiKey.CreateAcls;

    public override ValueTask<CreateAclsResponseData> HandleAsync(CreateAclsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new CreateAclsResponseData();
        foreach (var _ in request.Creations)
            response.Results.Add(new CreateAclsResponseData.ResultsItem { ErrorCode = (short)KafkaError.SecurityDisabled, ErrorMessage = NoAuthorizer.Message });
        return ValueTask.FromResult(response);
    }
}
