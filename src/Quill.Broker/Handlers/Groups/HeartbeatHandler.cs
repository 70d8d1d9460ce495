using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>Heartbeat (v0-4).</summary>
internal sealed class HeartbeatHandler(GroupCoordinator coordinator) : ApiHandler<HeartbeatRequestData, HeartbeatResponseData>
{
    public override ApiKey ApiKey => ApiKey.Heartbeat;

    public override async ValueTask<HeartbeatResponseData> HandleAsync(HeartbeatRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var error = await coordinator.HeartbeatAsync(request.GroupId, request.MemberId, request.GroupInstanceId, request.GenerationId);
        return new HeartbeatResponseData { ErrorCode = (short)error };
    }
}
