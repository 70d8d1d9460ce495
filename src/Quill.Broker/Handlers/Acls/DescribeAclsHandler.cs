using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Acls;

/// <summary>DescribeAcls (v0-3): SECURITY_DISABLED for the whole request, no resources.</summary>
public sealed class DescribeAclsHandler : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DescribeAcls;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(context.NewResponse()
            .SetInt("ErrorCode", (short)KafkaError.SecurityDisabled)
            .SetString("ErrorMessage", NoAuthorizer.Message));
}
