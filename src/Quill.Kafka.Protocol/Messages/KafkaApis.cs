namespace Quill.Kafka.Protocol.Messages;

/// <summary>The catalog of described APIs, by key.</summary>
public static class KafkaApis
{
    public static readonly Api Produce = new(ApiKey.Produce, ProduceApi.Request, ProduceApi.Response);
    public static readonly Api Fetch = new(ApiKey.Fetch, FetchApi.Request, FetchApi.Response);
    public static readonly Api ListOffsets = new(ApiKey.ListOffsets, ListOffsetsApi.Request, ListOffsetsApi.Response);
    public static readonly Api Metadata = new(ApiKey.Metadata, MetadataApi.Request, MetadataApi.Response);
    public static readonly Api OffsetCommit = new(ApiKey.OffsetCommit, OffsetCommitApi.Request, OffsetCommitApi.Response);
    public static readonly Api OffsetFetch = new(ApiKey.OffsetFetch, OffsetFetchApi.Request, OffsetFetchApi.Response);
    public static readonly Api FindCoordinator = new(ApiKey.FindCoordinator, FindCoordinatorApi.Request, FindCoordinatorApi.Response);
    public static readonly Api JoinGroup = new(ApiKey.JoinGroup, JoinGroupApi.Request, JoinGroupApi.Response);
    public static readonly Api Heartbeat = new(ApiKey.Heartbeat, HeartbeatApi.Request, HeartbeatApi.Response);
    public static readonly Api LeaveGroup = new(ApiKey.LeaveGroup, LeaveGroupApi.Request, LeaveGroupApi.Response);
    public static readonly Api SyncGroup = new(ApiKey.SyncGroup, SyncGroupApi.Request, SyncGroupApi.Response);
    public static readonly Api DescribeGroups = new(ApiKey.DescribeGroups, DescribeGroupsApi.Request, DescribeGroupsApi.Response);
    public static readonly Api ListGroups = new(ApiKey.ListGroups, ListGroupsApi.Request, ListGroupsApi.Response);
    public static readonly Api ApiVersions = new(ApiKey.ApiVersions, ApiVersionsApi.Request, ApiVersionsApi.Response);
    public static readonly Api CreateTopics = new(ApiKey.CreateTopics, CreateTopicsApi.Request, CreateTopicsApi.Response);
    public static readonly Api DeleteTopics = new(ApiKey.DeleteTopics, DeleteTopicsApi.Request, DeleteTopicsApi.Response);
    public static readonly Api DeleteRecords = new(ApiKey.DeleteRecords, DeleteRecordsApi.Request, DeleteRecordsApi.Response);
    public static readonly Api InitProducerId = new(ApiKey.InitProducerId, InitProducerIdApi.Request, InitProducerIdApi.Response);
    public static readonly Api OffsetForLeaderEpoch = new(ApiKey.OffsetForLeaderEpoch, OffsetForLeaderEpochApi.Request, OffsetForLeaderEpochApi.Response);
    public static readonly Api AddPartitionsToTxn = new(ApiKey.AddPartitionsToTxn, AddPartitionsToTxnApi.Request, AddPartitionsToTxnApi.Response);
    public static readonly Api AddOffsetsToTxn = new(ApiKey.AddOffsetsToTxn, AddOffsetsToTxnApi.Request, AddOffsetsToTxnApi.Response);
    public static readonly Api EndTxn = new(ApiKey.EndTxn, EndTxnApi.Request, EndTxnApi.Response);
    public static readonly Api WriteTxnMarkers = new(ApiKey.WriteTxnMarkers, WriteTxnMarkersApi.Request, WriteTxnMarkersApi.Response);
    public static readonly Api TxnOffsetCommit = new(ApiKey.TxnOffsetCommit, TxnOffsetCommitApi.Request, TxnOffsetCommitApi.Response);
    public static readonly Api DescribeConfigs = new(ApiKey.DescribeConfigs, DescribeConfigsApi.Request, DescribeConfigsApi.Response);
    public static readonly Api AlterConfigs = new(ApiKey.AlterConfigs, AlterConfigsApi.Request, AlterConfigsApi.Response);
    public static readonly Api CreatePartitions = new(ApiKey.CreatePartitions, CreatePartitionsApi.Request, CreatePartitionsApi.Response);
    public static readonly Api DeleteGroups = new(ApiKey.DeleteGroups, DeleteGroupsApi.Request, DeleteGroupsApi.Response);
    public static readonly Api IncrementalAlterConfigs = new(ApiKey.IncrementalAlterConfigs, IncrementalAlterConfigsApi.Request, IncrementalAlterConfigsApi.Response);
    public static readonly Api ControlledShutdown = new(ApiKey.ControlledShutdown, ControlledShutdownApi.Request, ControlledShutdownApi.Response);
    public static readonly Api LeaderAndIsr = new(ApiKey.LeaderAndIsr, LeaderAndIsrApi.Request, LeaderAndIsrApi.Response);
    public static readonly Api StopReplica = new(ApiKey.StopReplica, StopReplicaApi.Request, StopReplicaApi.Response);
    public static readonly Api UpdateMetadata = new(ApiKey.UpdateMetadata, UpdateMetadataApi.Request, UpdateMetadataApi.Response);
    public static readonly Api DescribeCluster = new(ApiKey.DescribeCluster, DescribeClusterApi.Request, DescribeClusterApi.Response);

    public static readonly Api DescribeAcls = new(ApiKey.DescribeAcls, DescribeAclsApi.Request, DescribeAclsApi.Response);
    public static readonly Api CreateAcls = new(ApiKey.CreateAcls, CreateAclsApi.Request, CreateAclsApi.Response);
    public static readonly Api DeleteAcls = new(ApiKey.DeleteAcls, DeleteAclsApi.Request, DeleteAclsApi.Response);
    public static readonly Api DescribeLogDirs = new(ApiKey.DescribeLogDirs, DescribeLogDirsApi.Request, DescribeLogDirsApi.Response);
    public static readonly Api ElectLeaders = new(ApiKey.ElectLeaders, ElectLeadersApi.Request, ElectLeadersApi.Response);
    public static readonly Api AlterPartitionReassignments = new(ApiKey.AlterPartitionReassignments, AlterPartitionReassignmentsApi.Request, AlterPartitionReassignmentsApi.Response);
    public static readonly Api ListPartitionReassignments = new(ApiKey.ListPartitionReassignments, ListPartitionReassignmentsApi.Request, ListPartitionReassignmentsApi.Response);
    public static readonly Api OffsetDelete = new(ApiKey.OffsetDelete, OffsetDeleteApi.Request, OffsetDeleteApi.Response);
    public static readonly Api SaslHandshake = new(ApiKey.SaslHandshake, SaslHandshakeApi.Request, SaslHandshakeApi.Response);
    public static readonly Api SaslAuthenticate = new(ApiKey.SaslAuthenticate, SaslAuthenticateApi.Request, SaslAuthenticateApi.Response);

    public static readonly IReadOnlyList<Api> All =
    [
        Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat,
        LeaveGroup, SyncGroup, DescribeGroups, ListGroups, ApiVersions, CreateTopics, DeleteTopics, DeleteRecords,
        InitProducerId, OffsetForLeaderEpoch, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, WriteTxnMarkers, TxnOffsetCommit, DescribeConfigs, AlterConfigs, CreatePartitions, DeleteGroups,
        IncrementalAlterConfigs, DescribeCluster, ControlledShutdown, LeaderAndIsr, StopReplica, UpdateMetadata,
        DescribeAcls, CreateAcls, DeleteAcls, DescribeLogDirs, ElectLeaders, AlterPartitionReassignments, ListPartitionReassignments, OffsetDelete,
        SaslHandshake, SaslAuthenticate,
    ];

    private static readonly Api?[] ByKey = BuildIndex();

    private static Api?[] BuildIndex()
    {
        var index = new Api?[All.Max(a => (int)a.Key) + 1];
        foreach (var api in All) index[(int)api.Key] = api;
        return index;
    }

    public static bool TryGet(short apiKey, out Api api)
    {
        api = (uint)apiKey < (uint)ByKey.Length ? ByKey[apiKey]! : null!;
        return api is not null;
    }

    public static Api Get(ApiKey key) =>
        TryGet((short)key, out var api) ? api : throw new KeyNotFoundException($"API {key} is not described");
}
