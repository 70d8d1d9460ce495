using Quill.Kafka.Protocol.Messages;

namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>
/// Guards the catalog against Kafka's JSON message specs: every field of every described message, and the version
/// ranges ApiVersions advertises.
/// </summary>
public class SpecConformanceTests
{
    public static TheoryData<string> EveryMessage()
    {
        var data = new TheoryData<string>();
        foreach (var api in KafkaApis.All)
        {
            data.Add(api.Request.Name);
            data.Add(api.Response.Name);
        }
        return data;
    }

    private static Quill.Kafka.Protocol.Schema.MessageSchema Find(string name) =>
        KafkaApis.All.SelectMany(a => new[] { a.Request, a.Response }).Single(m => m.Name == name);

    [Theory]
    [MemberData(nameof(EveryMessage))]
    public void Description_matches_the_spec_field_by_field(string message)
    {
        Assert.True(SpecDigests.All.TryGetValue(message, out var expected), $"{message} has no spec digest: add one from its JSON spec");
        Assert.Equal(expected, SchemaDigest.Of(Find(message)));
    }

    [Fact]
    public void Every_spec_digest_belongs_to_a_described_message()
    {
        var described = KafkaApis.All.SelectMany(a => new[] { a.Request.Name, a.Response.Name }).ToHashSet();
        var stale = SpecDigests.All.Keys.Where(name => !described.Contains(name)).ToList();
        Assert.True(stale.Count == 0, $"digests of messages not described: {string.Join(", ", stale)}");
    }

    /// <summary>
    /// The advertised range and the first flexible version of every API. The flexible version is the spec's; where
    /// the spec goes further than the maximum here, the next version needs what the broker does not do (see the Api
    /// files): Produce 13, Fetch 18, Metadata 14, OffsetCommit/OffsetFetch 10, OffsetForLeaderEpoch 5 (topic ids or
    /// fields it does not keep), InitProducerId 6 (two-phase commit).
    /// </summary>
    /// <summary>The flexible-version column of an API whose spec says "flexibleVersions": "none".</summary>
    private const short NotFlexible = -1;

    [Theory]
    [InlineData(ApiKey.Produce, 12, 9)]
    [InlineData(ApiKey.Fetch, 17, 12)]
    [InlineData(ApiKey.ListOffsets, 10, 6)]
    [InlineData(ApiKey.Metadata, 13, 9)]
    [InlineData(ApiKey.OffsetCommit, 9, 8)]
    [InlineData(ApiKey.OffsetFetch, 9, 6)]
    [InlineData(ApiKey.FindCoordinator, 6, 3)]
    [InlineData(ApiKey.JoinGroup, 9, 6)]
    [InlineData(ApiKey.Heartbeat, 4, 4)]
    [InlineData(ApiKey.LeaveGroup, 5, 4)]
    [InlineData(ApiKey.SyncGroup, 5, 4)]
    [InlineData(ApiKey.DescribeGroups, 6, 5)]
    [InlineData(ApiKey.ListGroups, 5, 3)]
    [InlineData(ApiKey.ApiVersions, 4, 3)]
    [InlineData(ApiKey.CreateTopics, 7, 5)]
    [InlineData(ApiKey.DeleteTopics, 6, 4)]
    [InlineData(ApiKey.DeleteRecords, 2, 2)]
    [InlineData(ApiKey.InitProducerId, 5, 2)]
    [InlineData(ApiKey.OffsetForLeaderEpoch, 4, 4)]
    [InlineData(ApiKey.AddPartitionsToTxn, 3, 3)]
    [InlineData(ApiKey.AddOffsetsToTxn, 4, 3)]
    [InlineData(ApiKey.EndTxn, 4, 3)]
    [InlineData(ApiKey.WriteTxnMarkers, 1, 1)]
    [InlineData(ApiKey.TxnOffsetCommit, 3, 3)]
    [InlineData(ApiKey.DescribeConfigs, 4, 4)]
    [InlineData(ApiKey.AlterConfigs, 2, 2)]
    [InlineData(ApiKey.CreatePartitions, 3, 2)]
    [InlineData(ApiKey.DeleteGroups, 2, 2)]
    [InlineData(ApiKey.IncrementalAlterConfigs, 1, 1)]
    [InlineData(ApiKey.DescribeCluster, 2, 0)]
    [InlineData(ApiKey.ControlledShutdown, 3, 3)]
    [InlineData(ApiKey.LeaderAndIsr, 7, 4)]
    [InlineData(ApiKey.StopReplica, 4, 2)]
    [InlineData(ApiKey.UpdateMetadata, 8, 6)]
    [InlineData(ApiKey.DescribeAcls, 3, 2)]
    [InlineData(ApiKey.CreateAcls, 3, 2)]
    [InlineData(ApiKey.DeleteAcls, 3, 2)]
    [InlineData(ApiKey.DescribeLogDirs, 4, 2)]
    [InlineData(ApiKey.ElectLeaders, 2, 2)]
    [InlineData(ApiKey.AlterPartitionReassignments, 0, 0)]
    [InlineData(ApiKey.ListPartitionReassignments, 0, 0)]
    [InlineData(ApiKey.OffsetDelete, 0, NotFlexible)]
    [InlineData(ApiKey.SaslHandshake, 1, NotFlexible)]
    [InlineData(ApiKey.SaslAuthenticate, 2, 2)]
    public void AdvertisedRangeAndFlexibleVersionsAreTheSpecs(ApiKey key, short maxVersion, short firstFlexible)
    {
        var api = KafkaApis.Get(key);
        Assert.Equal(0, api.MinVersion);
        Assert.Equal(maxVersion, api.MaxVersion);
        if (firstFlexible == NotFlexible)
        {
            Assert.True(api.Request.FlexibleVersions.IsEmpty && api.Response.FlexibleVersions.IsEmpty, $"{key} has flexible versions");
            return;
        }
        Assert.Equal(firstFlexible, api.Request.FlexibleVersions.Min);
        Assert.Equal(firstFlexible, api.Response.FlexibleVersions.Min);
        Assert.Equal(short.MaxValue, api.Request.FlexibleVersions.Max); // "N+": every later version is flexible too
        Assert.Equal(short.MaxValue, api.Response.FlexibleVersions.Max);
        Assert.Equal(api.Request.ValidVersions, api.Response.ValidVersions);
    }

    [Fact]
    public void The_range_table_covers_the_whole_catalog()
    {
        var listed = typeof(SpecConformanceTests).GetMethod(nameof(AdvertisedRangeAndFlexibleVersionsAreTheSpecs))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Cast<InlineDataAttribute>()
            .Select(a => (ApiKey)a.GetData(null!).First()[0]).ToHashSet();
        Assert.Equal(KafkaApis.All.Select(a => a.Key).ToHashSet(), listed);
    }
}
