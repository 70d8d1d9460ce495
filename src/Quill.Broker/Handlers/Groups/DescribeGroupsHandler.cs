using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>
/// DescribeGroups (v0-6). An unknown group is "Dead" with no error before v6, GROUP_ID_NOT_FOUND from v6
/// (KIP-1043). With no authorizer every group operation is allowed, and v3+ says so when asked.
/// </summary>
internal sealed class DescribeGroupsHandler(GroupCoordinator coordinator) : ApiHandler<DescribeGroupsRequestData, DescribeGroupsResponseData>
{
    // Kafka's AclOperation codes for groups: READ 3, DELETE 6, DESCRIBE 8.
    private const int AllGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

    public override ApiKey ApiKey => ApiKey.DescribeGroups;

    public override async ValueTask<DescribeGroupsResponseData> HandleAsync(DescribeGroupsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        bool includeOperations = context.Version >= 3 && request.IncludeAuthorizedOperations;
        var response = new DescribeGroupsResponseData();
        foreach (string groupId in request.Groups)
        {
            var d = await coordinator.DescribeGroupAsync(groupId);
            var group = new DescribeGroupsResponseData.GroupsItem
            {
                GroupId = d.GroupId,
                ErrorCode = (short)d.Error,
                GroupState = d.State.ToString(),
                ProtocolType = d.ProtocolType,
                ProtocolData = d.ProtocolData,
            };
            response.Groups.Add(group);
            if (includeOperations) group.AuthorizedOperations = AllGroupOperations;
            if (context.Version >= 6 && d.Error == KafkaError.None && d.State == GroupState.Dead)
            {
                group.ErrorCode = (short)KafkaError.GroupIdNotFound;
                group.ErrorMessage = $"Group {d.GroupId} not found.";
                continue;
            }
            foreach (var m in d.Members)
            {
                group.Members.Add(new DescribeGroupsResponseData.GroupsItem.MembersItem
                {
                    MemberId = m.MemberId,
                    GroupInstanceId = m.GroupInstanceId,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    MemberMetadata = m.Metadata,
                    MemberAssignment = m.Assignment,
                });
            }
        }
        return response;
    }
}
