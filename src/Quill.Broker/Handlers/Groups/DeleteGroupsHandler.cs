using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>DeleteGroups (v0-2): per-group NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, or success.</summary>
internal sealed class DeleteGroupsHandler(GroupCoordinator coordinator) : ApiHandler<DeleteGroupsRequestData, DeleteGroupsResponseData>
{
    public override ApiKey ApiKey => ApiKey.DeleteGroups;

    public override async ValueTask<DeleteGroupsResponseData> HandleAsync(DeleteGroupsRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var response = new DeleteGroupsResponseData();
        foreach (var (groupId, error) in await coordinator.DeleteGroupsAsync(request.GroupsNames))
            response.Results.Add(new DeleteGroupsResponseData.ResultsItem { GroupId = groupId, ErrorCode = (short)error });
        return response;
    }
}
