using Quill.Broker.Groups;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers.Groups;

/// <summary>LeaveGroup (v0-5): one member before v3, a batch with per-member errors from v3.</summary>
internal sealed class LeaveGroupHandler(GroupCoordinator coordinator) : ApiHandler<LeaveGroupRequestData, LeaveGroupResponseData>
{
    public override ApiKey ApiKey => ApiKey.LeaveGroup;

    public override async ValueTask<LeaveGroupResponseData> HandleAsync(LeaveGroupRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        var members = new List<MemberIdentity>();
        if (context.Version < 3) members.Add(new MemberIdentity(request.MemberId, null));
        else
            foreach (var m in request.Members)
                members.Add(new MemberIdentity(m.MemberId, m.GroupInstanceId));

        var result = await coordinator.LeaveAsync(request.GroupId, members);

        var response = new LeaveGroupResponseData();
        if (context.Version < 3)
        {
            // One member: its error is the answer.
            var error = result.Error != KafkaError.None || result.Members.Count == 0 ? result.Error : result.Members[0].Error;
            response.ErrorCode = (short)error;
            return response;
        }
        response.ErrorCode = (short)result.Error;
        foreach (var (member, error) in result.Members)
        {
            response.Members.Add(new LeaveGroupResponseData.MembersItem
            {
                MemberId = member.MemberId,
                GroupInstanceId = member.GroupInstanceId,
                ErrorCode = (short)error,
            });
        }
        return response;
    }
}
