using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>Heartbeat (v0-4).</summary>
internal sealed class HeartbeatHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.Heartbeat;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var error = coordinator.Heartbeat(body.GetString("GroupId") ?? "", body.GetString("MemberId") ?? "",
            body.GetString("GroupInstanceId"), body.GetInt32("GenerationId"));
        return ValueTask.FromResult(context.NewResponse().SetInt("ErrorCode", (short)error));
    }
}
