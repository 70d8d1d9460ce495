namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>The classic group protocol and ApiVersions, from the JSON specs (see <see cref="SpecDigests"/>).</summary>
internal static partial class SpecDigests
{
    private static readonly Dictionary<string, string> Groups = new()
    {
        // apache/kafka JoinGroupRequest.json 0-9 (v8 Reason, KIP-800), as carried verbatim in a stored copy; 0-7 also at apache/kafka@7e330c10.
        ["JoinGroupRequest"] = """
            JoinGroupRequest v0-9 flexible v6+
            GroupId: string v0+
            SessionTimeoutMs: int32 v0+
            RebalanceTimeoutMs: int32 v1+ = -1
            MemberId: string v0+
            GroupInstanceId: string v5+ nullable v5+ = null
            ProtocolType: string v0+
            Protocols: [] v0+
              Name: string v0+
              Metadata: bytes v0+
            Reason: string v8+ nullable v8+ = null
            """,
        // apache/kafka@d7f0d39b (0-9).
        ["JoinGroupResponse"] = """
            JoinGroupResponse v0-9 flexible v6+
            ThrottleTimeMs: int32 v2+
            ErrorCode: int16 v0+
            GenerationId: int32 v0+ = -1
            ProtocolType: string v7+ nullable v7+ = null
            ProtocolName: string v0+ nullable v7+
            Leader: string v0+
            SkipAssignment: bool v9+
            MemberId: string v0+
            Members: [] v0+
              MemberId: string v0+
              GroupInstanceId: string v5+ nullable v5+ = null
              Metadata: bytes v0+
            """,
        // muxun-research/kafka@eb37e781 (0-4).
        ["HeartbeatRequest"] = """
            HeartbeatRequest v0-4 flexible v4+
            GroupId: string v0+
            GenerationId: int32 v0+
            MemberId: string v0+
            GroupInstanceId: string v3+ nullable v3+ = null
            """,
        ["HeartbeatResponse"] = """
            HeartbeatResponse v0-4 flexible v4+
            ThrottleTimeMs: int32 v1+
            ErrorCode: int16 v0+
            """,
        // apache/kafka@0432e6c4 (0-4); v5 adds MemberIdentity.Reason (KIP-800), nullable, default null.
        ["LeaveGroupRequest"] = """
            LeaveGroupRequest v0-5 flexible v4+
            GroupId: string v0+
            MemberId: string v0-2
            Members: [] v3+
              MemberId: string v3+
              GroupInstanceId: string v3+ nullable v3+ = null
              Reason: string v5+ nullable v5+ = null
            """,
        // apache/kafka@52c1a13d (0-5): the member's GroupInstanceId has no default, so "".
        ["LeaveGroupResponse"] = """
            LeaveGroupResponse v0-5 flexible v4+
            ThrottleTimeMs: int32 v1+
            ErrorCode: int16 v0+
            Members: [] v3+
              MemberId: string v3+
              GroupInstanceId: string v3+ nullable v3+
              ErrorCode: int16 v3+
            """,
        // muxun-research/kafka@eb37e781 (0-5).
        ["SyncGroupRequest"] = """
            SyncGroupRequest v0-5 flexible v4+
            GroupId: string v0+
            GenerationId: int32 v0+
            MemberId: string v0+
            GroupInstanceId: string v3+ nullable v3+ = null
            ProtocolType: string v5+ nullable v5+ = null
            ProtocolName: string v5+ nullable v5+ = null
            Assignments: [] v0+
              MemberId: string v0+
              Assignment: bytes v0+
            """,
        ["SyncGroupResponse"] = """
            SyncGroupResponse v0-5 flexible v4+
            ThrottleTimeMs: int32 v1+
            ErrorCode: int16 v0+
            ProtocolType: string v5+ nullable v5+ = null
            ProtocolName: string v5+ nullable v5+ = null
            Assignment: bytes v0+
            """,
        // apache/kafka@52b3c2b8 (0-5); v6 changes only the response (KIP-1043).
        ["DescribeGroupsRequest"] = """
            DescribeGroupsRequest v0-6 flexible v5+
            Groups: []string v0+
            IncludeAuthorizedOperations: bool v3+
            """,
        // apache/kafka@d2cdfb45 (0-6).
        ["DescribeGroupsResponse"] = """
            DescribeGroupsResponse v0-6 flexible v5+
            ThrottleTimeMs: int32 v1+
            Groups: [] v0+
              ErrorCode: int16 v0+
              ErrorMessage: string v6+ nullable v6+ = null
              GroupId: string v0+
              GroupState: string v0+
              ProtocolType: string v0+
              ProtocolData: string v0+
              Members: [] v0+
                MemberId: string v0+
                GroupInstanceId: string v4+ nullable v4+ = null
                ClientId: string v0+
                ClientHost: string v0+
                MemberMetadata: bytes v0+
                MemberAssignment: bytes v0+
              AuthorizedOperations: int32 v3+ = -2147483648
            """,
        // snehashisp/kafka@855e77ac (0-5).
        ["ListGroupsRequest"] = """
            ListGroupsRequest v0-5 flexible v3+
            StatesFilter: []string v4+
            TypesFilter: []string v5+
            """,
        ["ListGroupsResponse"] = """
            ListGroupsResponse v0-5 flexible v3+
            ThrottleTimeMs: int32 v1+
            ErrorCode: int16 v0+
            Groups: [] v0+
              GroupId: string v0+
              ProtocolType: string v0+
              GroupState: string v4+
              GroupType: string v5+
            """,
        // muxun-research/kafka@eb37e781 (0-3); v4 changes only the response's feature semantics (KAFKA-17011).
        ["ApiVersionsRequest"] = """
            ApiVersionsRequest v0-4 flexible v3+
            ClientSoftwareName: string v3+
            ClientSoftwareVersion: string v3+
            """,
        // hyneho/kafka@73da6594 (0-4).
        ["ApiVersionsResponse"] = """
            ApiVersionsResponse v0-4 flexible v3+
            ErrorCode: int16 v0+
            ApiKeys: [] v0+
              ApiKey: int16 v0+
              MinVersion: int16 v0+
              MaxVersion: int16 v0+
            ThrottleTimeMs: int32 v1+
            SupportedFeatures: [] v3+ tag 0
              Name: string v3+
              MinVersion: int16 v3+
              MaxVersion: int16 v3+
            FinalizedFeaturesEpoch: int64 v3+ tag 1 = -1
            FinalizedFeatures: [] v3+ tag 2
              Name: string v3+
              MaxVersionLevel: int16 v3+
              MinVersionLevel: int16 v3+
            ZkMigrationReady: bool v3+ tag 3
            """,
        // muxun-research/kafka@eb37e781 (0-2).
        ["DeleteGroupsRequest"] = """
            DeleteGroupsRequest v0-2 flexible v2+
            GroupsNames: []string v0+
            """,
        ["DeleteGroupsResponse"] = """
            DeleteGroupsResponse v0-2 flexible v2+
            ThrottleTimeMs: int32 v0+
            Results: [] v0+
              GroupId: string v0+
              ErrorCode: int16 v0+
            """,
    };
}
