using Quill.Broker.Groups;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>ListGroups (v0-5): v4 filters by state, v5 by type; every group here is a "classic" group.</summary>
internal sealed class ListGroupsHandler(GroupCoordinator coordinator) : IApiHandler
{
    private const string ClassicType = "classic";

    public ApiKey ApiKey => ApiKey.ListGroups;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var response = context.NewResponse();
        var types = body.GetStringArray("TypesFilter") ?? [];
        if (types.Length > 0 && !types.Any(t => string.Equals(t, ClassicType, StringComparison.OrdinalIgnoreCase)))
            return ValueTask.FromResult(response);

        var states = (body.GetStringArray("StatesFilter") ?? []).OfType<string>().ToList();
        var (error, groups) = coordinator.ListGroups(states);
        response.SetInt("ErrorCode", (short)error);
        foreach (var g in groups)
        {
            response.AddElement("Groups")
                .SetString("GroupId", g.GroupId)
                .SetString("ProtocolType", g.ProtocolType)
                .SetString("GroupState", g.State.ToString())
                .SetString("GroupType", ClassicType);
        }
        return ValueTask.FromResult(response);
    }
}
