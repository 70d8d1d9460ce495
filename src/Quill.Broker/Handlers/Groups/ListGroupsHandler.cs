using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>ListGroups (v0-5): v4 filters by state, v5 by type; every group here is a "classic" group.</summary>
internal sealed class ListGroupsHandler(GroupCoordinator coordinator) : ApiHandler<ListGroupsRequestData, ListGroupsResponseData>
{
    private const string ClassicType = "classic";

    public override ApiKey ApiKey => ApiKey.ListGroups;

    public override async ValueTask<ListGroupsResponseData> HandleAsync(ListGroupsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new ListGroupsResponseData();
        var types = request.TypesFilter;
        if (types.Count > 0 && !types.Any(t => string.Equals(t, ClassicType, StringComparison.OrdinalIgnoreCase)))
            return response;

        var (error, groups) = await coordinator.ListGroupsAsync(request.StatesFilter);
        response.ErrorCode = (short)error;
        foreach (var g in groups)
        {
            response.Groups.Add(new ListGroupsResponseData.GroupsItem
            {
                GroupId = g.GroupId,
                ProtocolType = g.ProtocolType,
                GroupState = g.State.ToString(),
                GroupType = ClassicType,
            });
        }
        return response;
    }
}
