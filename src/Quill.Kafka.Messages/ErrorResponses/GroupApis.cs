using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// The classic group APIs' error responses (Kafka's JoinGroupRequest, HeartbeatRequest, ... getErrorResponse).

public sealed partial class JoinGroupRequestData
{
    /// <summary>The error, no generation (-1), no leader, member id or members; no protocol ("" before v7, null after, as Kafka).</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new JoinGroupResponseData
    {
        ErrorCode = (short)error,
        GenerationId = -1,
        ProtocolName = version >= 7 ? null : "",
        Leader = "",
        MemberId = "",
    };
}

public sealed partial class HeartbeatRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new HeartbeatResponseData { ErrorCode = (short)error };
}

public sealed partial class LeaveGroupRequestData
{
    /// <summary>The top-level error, and here each leaving member (v3+) with it too.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new LeaveGroupResponseData { ErrorCode = (short)error };
        foreach (var member in Members)
            response.Members.Add(new LeaveGroupResponseData.MembersItem { MemberId = member.MemberId, GroupInstanceId = member.GroupInstanceId, ErrorCode = (short)error });
        return response;
    }
}

public sealed partial class SyncGroupRequestData
{
    /// <summary>The error and no assignment.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new SyncGroupResponseData { ErrorCode = (short)error };
}

public sealed partial class DescribeGroupsRequestData
{
    /// <summary>Each requested group with the error, no state and no members.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new DescribeGroupsResponseData();
        foreach (string group in Groups)
            response.Groups.Add(new DescribeGroupsResponseData.GroupsItem { GroupId = group, ErrorCode = (short)error });
        return response;
    }
}

public sealed partial class ListGroupsRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new ListGroupsResponseData { ErrorCode = (short)error };
}

public sealed partial class DeleteGroupsRequestData
{
    /// <summary>Each requested group with the error.</summary>
    public IApiResponse? ErrorResponse(short version, KafkaError error)
    {
        var response = new DeleteGroupsResponseData();
        foreach (string group in GroupsNames)
            response.Results.Add(new DeleteGroupsResponseData.ResultsItem { GroupId = group, ErrorCode = (short)error });
        return response;
    }
}
