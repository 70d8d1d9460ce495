using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// DescribeGroups (v0-6). An unknown group is "Dead" with no error before v6, GROUP_ID_NOT_FOUND from v6
/// (KIP-1043). With no authorizer every group operation is allowed, and v3+ says so when asked.
/// </summary>
internal sealed class DescribeGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    // Kafka's AclOperation codes for groups: READ 3, DELETE 6, DESCRIBE 8.
    private const int AllGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

    public ApiKey ApiKey => ApiKey.DescribeGroups;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        bool includeOperations = context.Version >= 3 && body.GetBool("IncludeAuthorizedOperations");
        var response = context.NewResponse();
        foreach (string? groupId in body.GetStringArray("Groups") ?? [])
        {
            var d = coordinator.DescribeGroup(groupId ?? "");
            var group = response.AddElement("Groups")
                .SetString("GroupId", d.GroupId)
                .SetInt("ErrorCode", (short)d.Error)
                .SetString("GroupState", d.State.ToString())
                .SetString("ProtocolType", d.ProtocolType)
                .SetString("ProtocolData", d.ProtocolData);
            if (includeOperations) group.SetInt("AuthorizedOperations", AllGroupOperations);
            if (context.Version >= 6 && d.Error == KafkaError.None && d.State == GroupState.Dead)
            {
                group.SetInt("ErrorCode", (short)KafkaError.GroupIdNotFound).SetString("ErrorMessage", $"Group {d.GroupId} not found.");
                continue;
            }
            foreach (var m in d.Members)
            {
                group.AddElement("Members")
                    .SetString("MemberId", m.MemberId)
                    .SetString("GroupInstanceId", m.GroupInstanceId)
                    .SetString("ClientId", m.ClientId)
                    .SetString("ClientHost", m.ClientHost)
                    .SetBytes("MemberMetadata", m.Metadata)
                    .SetBytes("MemberAssignment", m.Assignment);
            }
        }
        return ValueTask.FromResult(response);
    }
}
