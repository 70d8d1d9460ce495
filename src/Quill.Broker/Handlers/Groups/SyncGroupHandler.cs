using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>SyncGroup (v0-5). The leader's assignments pass through untouched; v5 checks protocol type and name.</summary>
internal sealed class SyncGroupHandler(GroupCoordinator coordinator) : ApiHandler<SyncGroupRequestData, SyncGroupResponseData>
{
    public override ApiKey ApiKey => ApiKey.SyncGroup;

    public override async ValueTask<SyncGroupResponseData> HandleAsync(SyncGroupRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var assignments = new Dictionary<string, byte[]>();
        // Copies: the coordinator hands them to members after the request buffer is gone.
        foreach (var a in request.Assignments) assignments[a.MemberId] = a.Assignment.ToArray();

        var result = await coordinator.SyncAsync(
                request.GroupId,
                request.GenerationId,
                request.MemberId,
                request.GroupInstanceId,
                request.ProtocolType,
                request.ProtocolName,
                assignments)
            .WaitAsync(cancellationToken).ConfigureAwait(false);

        return new SyncGroupResponseData
        {
            ErrorCode = (short)result.Error,
            ProtocolType = result.ProtocolType,
            ProtocolName = result.ProtocolName,
            Assignment = result.Assignment,
        };
    }
}
