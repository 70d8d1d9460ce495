namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>
/// The ACL, leader election, reassignment, log dir and offset deletion APIs (see <see cref="SpecDigests"/> for the
/// form), up to the versions Quill advertises.
/// </summary>
internal static partial class SpecDigests
{
    private static readonly Dictionary<string, string> ClusterAdmin = new()
    {
        // muxun-research/kafka@05780be6 (0-3). Kafka 4.0 drops v0 of the ACL APIs (apache/kafka@1e4f4374: 1-3), with the same fields.
        ["DescribeAclsRequest"] = """
            DescribeAclsRequest v0-3 flexible v2+
            ResourceTypeFilter: int8 v0+
            ResourceNameFilter: string v0+ nullable v0+
            PatternTypeFilter: int8 v1+ = 3
            PrincipalFilter: string v0+ nullable v0+
            HostFilter: string v0+ nullable v0+
            Operation: int8 v0+
            PermissionType: int8 v0+
            """,
        // muxun-research/kafka@05780be6 (0-3).
        ["DescribeAclsResponse"] = """
            DescribeAclsResponse v0-3 flexible v2+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v0+
            ErrorMessage: string v0+ nullable v0+
            Resources: [] v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
              PatternType: int8 v1+ = 3
              Acls: [] v0+
                Principal: string v0+
                Host: string v0+
                Operation: int8 v0+
                PermissionType: int8 v0+
            """,
        // muxun-research/kafka@05780be6 (0-3).
        ["CreateAclsRequest"] = """
            CreateAclsRequest v0-3 flexible v2+
            Creations: [] v0+
              ResourceType: int8 v0+
              ResourceName: string v0+
              ResourcePatternType: int8 v1+ = 3
              Principal: string v0+
              Host: string v0+
              Operation: int8 v0+
              PermissionType: int8 v0+
            """,
        // muxun-research/kafka@05780be6 (0-3).
        ["CreateAclsResponse"] = """
            CreateAclsResponse v0-3 flexible v2+
            ThrottleTimeMs: int32 v0+
            Results: [] v0+
              ErrorCode: int16 v0+
              ErrorMessage: string v0+ nullable v0+
            """,
        // muxun-research/kafka@05780be6 (0-3).
        ["DeleteAclsRequest"] = """
            DeleteAclsRequest v0-3 flexible v2+
            Filters: [] v0+
              ResourceTypeFilter: int8 v0+
              ResourceNameFilter: string v0+ nullable v0+
              PatternTypeFilter: int8 v1+ = 3
              PrincipalFilter: string v0+ nullable v0+
              HostFilter: string v0+ nullable v0+
              Operation: int8 v0+
              PermissionType: int8 v0+
            """,
        // muxun-research/kafka@05780be6 (0-3); the same fields in apache/kafka@2f4e0dc1.
        ["DeleteAclsResponse"] = """
            DeleteAclsResponse v0-3 flexible v2+
            ThrottleTimeMs: int32 v0+
            FilterResults: [] v0+
              ErrorCode: int16 v0+
              ErrorMessage: string v0+ nullable v0+
              MatchingAcls: [] v0+
                ErrorCode: int16 v0+
                ErrorMessage: string v0+ nullable v0+
                ResourceType: int8 v0+
                ResourceName: string v0+
                PatternType: int8 v1+ = 3
                Principal: string v0+
                Host: string v0+
                Operation: int8 v0+
                PermissionType: int8 v0+
            """,
        // muxun-research/kafka@05780be6 (0-4); apache/kafka@06a2dac2 the same.
        ["DescribeLogDirsRequest"] = """
            DescribeLogDirsRequest v0-4 flexible v2+
            Topics: [] v0+ nullable v0+
              Topic: string v0+
              Partitions: []int32 v0+
            """,
        // muxun-research/kafka@05780be6 (0-4; v4 TotalBytes and UsableBytes, KIP-827).
        ["DescribeLogDirsResponse"] = """
            DescribeLogDirsResponse v0-4 flexible v2+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v3+
            Results: [] v0+
              ErrorCode: int16 v0+
              LogDir: string v0+
              Topics: [] v0+
                Name: string v0+
                Partitions: [] v0+
                  PartitionIndex: int32 v0+
                  PartitionSize: int64 v0+
                  OffsetLag: int64 v0+
                  IsFutureKey: bool v0+
              TotalBytes: int64 v4+ = -1
              UsableBytes: int64 v4+ = -1
            """,
        // muxun-research/kafka@05780be6 (0-2).
        ["ElectLeadersRequest"] = """
            ElectLeadersRequest v0-2 flexible v2+
            ElectionType: int8 v1+
            TopicPartitions: [] v0+ nullable v0+
              Topic: string v0+
              Partitions: []int32 v0+
            TimeoutMs: int32 v0+ = 60000
            """,
        // muxun-research/kafka@eb37e781 (0-2).
        ["ElectLeadersResponse"] = """
            ElectLeadersResponse v0-2 flexible v2+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v1+
            ReplicaElectionResults: [] v0+
              Topic: string v0+
              PartitionResult: [] v0+
                PartitionId: int32 v0+
                ErrorCode: int16 v0+
                ErrorMessage: string v0+ nullable v0+
            """,
        // apache/kafka ControlledShutdownRequest.json (0-3).
        ["ControlledShutdownRequest"] = """
            ControlledShutdownRequest v0-3 flexible v3+
            BrokerId: int32 v0+
            BrokerEpoch: int64 v2+ = -1
            """,
        // apache/kafka ControlledShutdownResponse.json (0-3).
        ["ControlledShutdownResponse"] = """
            ControlledShutdownResponse v0-3 flexible v3+
            ErrorCode: int16 v0+
            RemainingPartitions: [] v0+
              TopicName: string v0+
              PartitionIndex: int32 v0+
            """,
        // muxun-research/kafka@05780be6 (0).
        ["AlterPartitionReassignmentsRequest"] = """
            AlterPartitionReassignmentsRequest v0 flexible v0+
            TimeoutMs: int32 v0+ = 60000
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                Replicas: []int32 v0+ nullable v0+ = null
            """,
        // muxun-research/kafka@eb37e781 (0); apache/kafka@a55a4299 the same.
        ["AlterPartitionReassignmentsResponse"] = """
            AlterPartitionReassignmentsResponse v0 flexible v0+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v0+
            ErrorMessage: string v0+ nullable v0+
            Responses: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                ErrorCode: int16 v0+
                ErrorMessage: string v0+ nullable v0+
            """,
        // muxun-research/kafka@05780be6 (0).
        ["ListPartitionReassignmentsRequest"] = """
            ListPartitionReassignmentsRequest v0 flexible v0+
            TimeoutMs: int32 v0+ = 60000
            Topics: [] v0+ nullable v0+ = null
              Name: string v0+
              PartitionIndexes: []int32 v0+
            """,
        // muxun-research/kafka@eb37e781 (0).
        ["ListPartitionReassignmentsResponse"] = """
            ListPartitionReassignmentsResponse v0 flexible v0+
            ThrottleTimeMs: int32 v0+
            ErrorCode: int16 v0+
            ErrorMessage: string v0+ nullable v0+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                Replicas: []int32 v0+
                AddingReplicas: []int32 v0+
                RemovingReplicas: []int32 v0+
            """,
        // apache/kafka@f078e51b and @147803fe (0, not flexible); trunk (apache/kafka@33128146) adds an unstable flexible v1.
        ["OffsetDeleteRequest"] = """
            OffsetDeleteRequest v0 flexible vnone
            GroupId: string v0+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
            """,
        // cdm114514/kafka@10882d18 (0).
        ["OffsetDeleteResponse"] = """
            OffsetDeleteResponse v0 flexible vnone
            ErrorCode: int16 v0+
            ThrottleTimeMs: int32 v0+
            Topics: [] v0+
              Name: string v0+
              Partitions: [] v0+
                PartitionIndex: int32 v0+
                ErrorCode: int16 v0+
            """,
    };
}
