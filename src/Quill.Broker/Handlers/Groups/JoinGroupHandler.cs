using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>JoinGroup (v0-9). The answer waits for the join round; protocol metadata passes through untouched.</summary>
internal sealed class JoinGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.JoinGroup;

    public async ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        short version = context.Version;
        var protocols = new List<GroupProtocol>();
        foreach (var p in body.GetArray("Protocols") ?? [])
            protocols.Add(new GroupProtocol(p.GetString("Name") ?? "", (p.GetBytes("Metadata") ?? default).ToArray()));
        int sessionTimeout = body.GetInt32("SessionTimeoutMs");
        var request = new JoinGroupRequest(
            body.GetString("GroupId") ?? "",
            body.GetString("MemberId") ?? "",
            body.GetString("GroupInstanceId"),
            body.GetString("ProtocolType") ?? "",
            protocols,
            sessionTimeout,
            version >= 1 ? body.GetInt32("RebalanceTimeoutMs") : sessionTimeout, // v0: the session timeout is both
            context.ClientId ?? "",
            GroupHandlers.ClientHost(context.ClientAddress),
            RequireKnownMemberId: version >= 4,
            Reason: body.GetString("Reason"));

        var result = await coordinator.JoinAsync(request).WaitAsync(cancellationToken).ConfigureAwait(false);

        var response = context.NewResponse()
            .SetInt("ErrorCode", (short)result.Error)
            .SetInt("GenerationId", result.GenerationId)
            .SetString("ProtocolType", result.ProtocolType)
            .SetString("ProtocolName", version >= 7 ? result.ProtocolName : result.ProtocolName ?? "") // nullable from v7
            .SetString("Leader", result.LeaderId)
            .SetBool("SkipAssignment", result.SkipAssignment)
            .SetString("MemberId", result.MemberId);
        // Before v9 a returning static leader cannot be told to skip the assignment: it gets no member list.
        if (result.SkipAssignment && version < 9) return response;
        foreach (var member in result.Members)
        {
            response.AddElement("Members")
                .SetString("MemberId", member.MemberId)
                .SetString("GroupInstanceId", member.GroupInstanceId)
                .SetBytes("Metadata", member.Metadata);
        }
        return response;
    }
}
