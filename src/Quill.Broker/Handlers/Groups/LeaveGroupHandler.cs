using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers.Groups;

/// <summary>LeaveGroup (v0-5): one member before v3, a batch with per-member errors from v3.</summary>
internal sealed class LeaveGroupHandler(GroupCoordinator coordinator) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.LeaveGroup;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var body = context.Body;
        var members = new List<MemberIdentity>();
        if (context.Version < 3) members.Add(new MemberIdentity(body.GetString("MemberId") ?? "", null));
        else
            foreach (var m in body.GetArray("Members") ?? [])
                members.Add(new MemberIdentity(m.GetString("MemberId") ?? "", m.GetString("GroupInstanceId")));

        var result = coordinator.Leave(body.GetString("GroupId") ?? "", members);

        var response = context.NewResponse();
        if (context.Version < 3)
        {
            // One member: its error is the answer.
            var error = result.Error != KafkaError.None || result.Members.Count == 0 ? result.Error : result.Members[0].Error;
            return ValueTask.FromResult(response.SetInt("ErrorCode", (short)error));
        }
        response.SetInt("ErrorCode", (short)result.Error);
        foreach (var (member, error) in result.Members)
        {
            response.AddElement("Members")
                .SetString("MemberId", member.MemberId)
                .SetString("GroupInstanceId", member.GroupInstanceId)
                .SetInt("ErrorCode", (short)error);
        }
        return ValueTask.FromResult(response);
    }
}
