using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>SyncGroup (v0-5). The leader's assignments pass through untouched; v5 checks protocol type and name.</summary>
internal sealed class SyncGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.SyncGroup;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var assignments = new Dictionary<string, byte[]>();
        foreach (var a in body.GetArray("Assignments") ?? [])
            assignments[a.GetString("MemberId") ?? ""] = (a.GetBytes("Assignment") ?? default).ToArray();

        var result = await coordinator.SyncAsync(
                body.GetString("GroupId") ?? "",
                body.GetInt32("GenerationId"),
                body.GetString("MemberId") ?? "",
                body.GetString("GroupInstanceId"),
                body.GetString("ProtocolType"),
                body.GetString("ProtocolName"),
                assignments)
            .WaitAsync(cancellationToken).ConfigureAwait(false);

        return context.NewResponse()
            .SetInt("ErrorCode", (short)result.Error)
            .SetString("ProtocolType", result.ProtocolType)
            .SetString("ProtocolName", result.ProtocolName)
            .SetBytes("Assignment", result.Assignment);
    }
}
