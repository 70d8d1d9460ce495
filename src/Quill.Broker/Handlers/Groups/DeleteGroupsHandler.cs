using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>DeleteGroups (v0-2): per-group NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, or success.</summary>
internal sealed class DeleteGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.DeleteGroups;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var groupIds = (context.Body.GetStringArray("GroupsNames") ?? []).Select(g => g ?? "").ToList();
        var response = context.NewResponse();
        foreach (var (groupId, error) in coordinator.DeleteGroups(groupIds))
            response.AddElement("Results").SetString("GroupId", groupId).SetInt("ErrorCode", (short)error);
        return ValueTask.FromResult(response);
    }
}
