using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>JoinGroup (11): v1 rebalance timeout, v5 static membership, v6 flexible, v7 protocol type in the response, v8 reason, v9 SkipAssignment.</summary>
public static class JoinGroupApi
{
    public static readonly MessageSchema Request = new("JoinGroupRequest", "0-9", "6+",
        String("GroupId", "0+"),
        Int32("SessionTimeoutMs", "0+"),
        Int32("RebalanceTimeoutMs", "1+", -1),
        String("MemberId", "0+"),
        NullableString("GroupInstanceId", "5+", "5+"),
        String("ProtocolType", "0+"),
        Array("Protocols", "0+",
            String("Name", "0+"),
            Bytes("Metadata", "0+")),
        NullableString("Reason", "8+", "8+"));

    public static readonly MessageSchema Response = new("JoinGroupResponse", "0-9", "6+",
        Int32("ThrottleTimeMs", "2+"),
        Int16("ErrorCode", "0+"),
        Int32("GenerationId", "0+", -1),
        NullableString("ProtocolType", "7+", "7+"),
        String("ProtocolName", "0+").Nullable("7+"),
        String("Leader", "0+"),
        Bool("SkipAssignment", "9+"),
        String("MemberId", "0+"),
        Array("Members", "0+",
            String("MemberId", "0+"),
            NullableString("GroupInstanceId", "5+", "5+"),
            Bytes("Metadata", "0+")));
}

/// <summary>Heartbeat (12): v3 group instance id, v4 flexible.</summary>
public static class HeartbeatApi
{
    public static readonly MessageSchema Request = new("HeartbeatRequest", "0-4", "4+",
        String("GroupId", "0+"),
        Int32("GenerationId", "0+"),
        String("MemberId", "0+"),
        NullableString("GroupInstanceId", "3+", "3+"));

    public static readonly MessageSchema Response = new("HeartbeatResponse", "0-4", "4+",
        Int32("ThrottleTimeMs", "1+"),
        Int16("ErrorCode", "0+"));
}

/// <summary>LeaveGroup (13): v3 batches members, v4 flexible, v5 reason.</summary>
public static class LeaveGroupApi
{
    public static readonly MessageSchema Request = new("LeaveGroupRequest", "0-5", "4+",
        String("GroupId", "0+"),
        String("MemberId", "0-2"),
        Array("Members", "3+",
            String("MemberId", "3+"),
            NullableString("GroupInstanceId", "3+", "3+"),
            NullableString("Reason", "5+", "5+")));

    public static readonly MessageSchema Response = new("LeaveGroupResponse", "0-5", "4+",
        Int32("ThrottleTimeMs", "1+"),
        Int16("ErrorCode", "0+"),
        Array("Members", "3+",
            String("MemberId", "3+"),
            String("GroupInstanceId", "3+").Nullable("3+"),
            Int16("ErrorCode", "3+")));
}

/// <summary>SyncGroup (14): v3 group instance id, v4 flexible, v5 protocol type and name.</summary>
public static class SyncGroupApi
{
    public static readonly MessageSchema Request = new("SyncGroupRequest", "0-5", "4+",
        String("GroupId", "0+"),
        Int32("GenerationId", "0+"),
        String("MemberId", "0+"),
        NullableString("GroupInstanceId", "3+", "3+"),
        NullableString("ProtocolType", "5+", "5+"),
        NullableString("ProtocolName", "5+", "5+"),
        Array("Assignments", "0+",
            String("MemberId", "0+"),
            Bytes("Assignment", "0+")));

    public static readonly MessageSchema Response = new("SyncGroupResponse", "0-5", "4+",
        Int32("ThrottleTimeMs", "1+"),
        Int16("ErrorCode", "0+"),
        NullableString("ProtocolType", "5+", "5+"),
        NullableString("ProtocolName", "5+", "5+"),
        Bytes("Assignment", "0+"));
}

/// <summary>DescribeGroups (15): v3 authorized operations, v4 group instance id, v5 flexible, v6 per-group error message (KIP-1043).</summary>
public static class DescribeGroupsApi
{
    public static readonly MessageSchema Request = new("DescribeGroupsRequest", "0-6", "5+",
        StringArray("Groups", "0+"),
        Bool("IncludeAuthorizedOperations", "3+"));

    public static readonly MessageSchema Response = new("DescribeGroupsResponse", "0-6", "5+",
        Int32("ThrottleTimeMs", "1+"),
        Array("Groups", "0+",
            Int16("ErrorCode", "0+"),
            NullableString("ErrorMessage", "6+", "6+"),
            String("GroupId", "0+"),
            String("GroupState", "0+"),
            String("ProtocolType", "0+"),
            String("ProtocolData", "0+"),
            Array("Members", "0+",
                String("MemberId", "0+"),
                NullableString("GroupInstanceId", "4+", "4+"),
                String("ClientId", "0+"),
                String("ClientHost", "0+"),
                Bytes("MemberMetadata", "0+"),
                Bytes("MemberAssignment", "0+")),
            Int32("AuthorizedOperations", "3+", int.MinValue)));
}

/// <summary>ListGroups (16): v3 flexible, v4 states filter, v5 types filter (KIP-848).</summary>
public static class ListGroupsApi
{
    public static readonly MessageSchema Request = new("ListGroupsRequest", "0-5", "3+",
        StringArray("StatesFilter", "4+"),
        StringArray("TypesFilter", "5+"));

    public static readonly MessageSchema Response = new("ListGroupsResponse", "0-5", "3+",
        Int32("ThrottleTimeMs", "1+"),
        Int16("ErrorCode", "0+"),
        Array("Groups", "0+",
            String("GroupId", "0+"),
            String("ProtocolType", "0+"),
            String("GroupState", "4+"),
            String("GroupType", "5+")));
}

/// <summary>DeleteGroups (42): v2 flexible.</summary>
public static class DeleteGroupsApi
{
    public static readonly MessageSchema Request = new("DeleteGroupsRequest", "0-2", "2+",
        StringArray("GroupsNames", "0+"));

    public static readonly MessageSchema Response = new("DeleteGroupsResponse", "0-2", "2+",
        Int32("ThrottleTimeMs", "0+"),
        Array("Results", "0+",
            String("GroupId", "0+"),
            Int16("ErrorCode", "0+")));
}
