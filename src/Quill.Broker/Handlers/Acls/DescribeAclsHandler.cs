using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Acls;

/// <summary>DescribeAcls (v0-3): SECURITY_DISABLED for the whole request, no resources.</summary>
public sealed class DescribeAclsHandler : ApiHandler<DescribeAclsRequestData, DescribeAclsResponseData>
{
    public override ApiKey ApiKey => ApiKey.DescribeAcls;

    public override ValueTask<DescribeAclsResponseData> HandleAsync(DescribeAclsRequestData request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new DescribeAclsResponseData { ErrorCode = (short)KafkaError.SecurityDisabled, ErrorMessage = NoAuthorizer.Message });
}
