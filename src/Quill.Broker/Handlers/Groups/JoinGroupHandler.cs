using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>JoinGroup (v0-9). The answer waits for the join round; protocol metadata passes through untouched.</summary>
internal sealed class JoinGroupHandler(GroupCoordinator coordinator) : ApiHandler<JoinGroupRequestData, JoinGroupResponseData>
{
    public override ApiKey ApiKey => ApiKey.JoinGroup;

    public override async ValueTask<JoinGroupResponseData> HandleAsync(JoinGroupRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        short version = context.Version;
        var protocols = new List<GroupProtocol>(request.Protocols.Count);
        // Copies: the coordinator keeps the metadata after the request buffer is gone.
        foreach (var p in request.Protocols) protocols.Add(new GroupProtocol(p.Name, p.Metadata.ToArray()));
        var join = new JoinGroupRequest(
            request.GroupId,
            request.MemberId,
            request.GroupInstanceId,
            request.ProtocolType,
            protocols,
            request.SessionTimeoutMs,
            version >= 1 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs, // v0: the session timeout is both
            context.ClientId ?? "",
            GroupHandlers.ClientHost(context.ClientAddress),
            RequireKnownMemberId: version >= 4,
            Reason: request.Reason);

        var result = await coordinator.JoinAsync(join).WaitAsync(cancellationToken).ConfigureAwait(false);

        var response = new JoinGroupResponseData
        {
            ErrorCode = (short)result.Error,
            GenerationId = result.GenerationId,
            ProtocolType = result.ProtocolType,
            ProtocolName = version >= 7 ? result.ProtocolName : result.ProtocolName ?? "", // nullable from v7
            Leader = result.LeaderId,
            SkipAssignment = result.SkipAssignment,
            MemberId = result.MemberId,
        };
        // Before v9 a returning static leader cannot be told to skip the assignment: it gets no member list.
        if (result.SkipAssignment && version < 9) return response;
        foreach (var member in result.Members)
        {
            response.Members.Add(new JoinGroupResponseData.MembersItem
            {
                MemberId = member.MemberId,
                GroupInstanceId = member.GroupInstanceId,
                Metadata = member.Metadata,
            });
        }
        return response;
    }
}
