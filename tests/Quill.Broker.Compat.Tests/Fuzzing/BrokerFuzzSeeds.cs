using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Compat.Tests.Fuzzing;

/// <summary>A seed payload (request header and body, no length prefix), and where its record batch starts if it has one.</summary>
public sealed record KafkaSeed(string Name, byte[] Payload, int BatchAt = -1);

/// <summary>
/// Valid Kafka requests (payloads without the length prefix) for the mutation fuzzer: the APIs a client sends in
/// several versions each, flexible and not, with produce requests carrying batches of every codec and the old
/// message formats. They name the fuzz topics only. The admin APIs that delete or create topics and records
/// (DeleteTopics, DeleteRecords, CreateTopics, CreatePartitions, AlterConfigs) are left out: a mutated one would
/// rightly delete the checker's data or create thousands of partitions, which says nothing about robustness. Metadata
/// asks not to auto-create topics, for the same reason.
/// </summary>
public static class BrokerFuzzSeeds
{
    /// <summary>The correlation id of the valid request that ends each fuzz connection (its answer marks "all handled").</summary>
    public const int EndCorrelationId = 0x51_51_51_51;

    public static IReadOnlyList<KafkaSeed> Requests(string topic, string compactedTopic)
    {
        var seeds = new List<KafkaSeed>();
        foreach (short v in new short[] { 3, 7, 9, 12 })
            foreach (var codec in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
                seeds.Add(Produce($"produce v{v} {codec}", v, topic, Batch(codec, keyed: true)));
        seeds.Add(Produce("produce idempotent", 9, topic, Batch(CompressionType.None, keyed: true, producerId: 1000)));
        seeds.Add(Produce("produce compacted", 9, compactedTopic, Batch(CompressionType.None, keyed: true)));
        seeds.Add(Produce("produce compacted keyless", 9, compactedTopic, Batch(CompressionType.None, keyed: false)));
        seeds.Add(Produce("produce v2 magic 1", 2, topic, OldFormat.Plain(1, Messages())));
        seeds.Add(Produce("produce v2 magic 1 gzip", 2, topic, OldFormat.Compressed(1, Messages())));
        seeds.Add(Produce("produce v0 magic 0", 0, topic, OldFormat.Plain(0, Messages())));

        foreach (short v in new short[] { 0, 2, 4, 11, 12 })
            seeds.Add(Seed($"fetch v{v}", KafkaApis.Fetch, v, Fetch(topic, readCommitted: v == 4)));
        foreach (short v in new short[] { 0, 1, 7 })
            foreach (long timestamp in new long[] { -2, -1, 1_700_000_000_000 })
                seeds.Add(Seed($"listoffsets v{v} {timestamp}", KafkaApis.ListOffsets, v, ListOffsets(topic, timestamp)));
        foreach (short v in new short[] { 4, 9, 12 })
            seeds.Add(Seed($"metadata v{v}", KafkaApis.Metadata, v, Metadata(topic)));
        seeds.Add(Seed("apiversions v3", KafkaApis.ApiVersions, 3,
            KafkaApis.ApiVersions.Request.New().SetString("ClientSoftwareName", "fuzz").SetString("ClientSoftwareVersion", "1")));
        seeds.Add(Seed("findcoordinator v3", KafkaApis.FindCoordinator, 3, KafkaApis.FindCoordinator.Request.New().SetString("Key", "fuzz-group")));
        seeds.Add(Seed("findcoordinator v4", KafkaApis.FindCoordinator, 4,
            KafkaApis.FindCoordinator.Request.New().SetStringArray("CoordinatorKeys", ["fuzz-group", "other"])));
        seeds.Add(Seed("joingroup v5", KafkaApis.JoinGroup, 5, JoinGroup()));
        seeds.Add(Seed("joingroup v9", KafkaApis.JoinGroup, 9, JoinGroup()));
        seeds.Add(Seed("heartbeat v4", KafkaApis.Heartbeat, 4, KafkaApis.Heartbeat.Request.New()
            .SetString("GroupId", "fuzz-group").SetInt("GenerationId", 1).SetString("MemberId", "m-1")));
        seeds.Add(Seed("syncgroup v5", KafkaApis.SyncGroup, 5, SyncGroup()));
        seeds.Add(Seed("leavegroup v4", KafkaApis.LeaveGroup, 4, LeaveGroup()));
        seeds.Add(Seed("offsetcommit v8", KafkaApis.OffsetCommit, 8, OffsetCommit(topic)));
        seeds.Add(Seed("offsetfetch v7", KafkaApis.OffsetFetch, 7, OffsetFetch(topic)));
        seeds.Add(Seed("describegroups v5", KafkaApis.DescribeGroups, 5, KafkaApis.DescribeGroups.Request.New().SetStringArray("Groups", ["fuzz-group"])));
        seeds.Add(Seed("listgroups v4", KafkaApis.ListGroups, 4, KafkaApis.ListGroups.Request.New()));
        seeds.Add(Seed("initproducerid v4", KafkaApis.InitProducerId, 4, KafkaApis.InitProducerId.Request.New().SetInt("TransactionTimeoutMs", 60_000)));
        seeds.Add(Seed("describeconfigs v4", KafkaApis.DescribeConfigs, 4, DescribeConfigs(topic)));
        seeds.Add(Seed("offsetforleaderepoch v4", KafkaApis.OffsetForLeaderEpoch, 4, OffsetForLeaderEpoch(topic)));
        seeds.Add(Seed("describecluster v0", KafkaApis.DescribeCluster, 0, KafkaApis.DescribeCluster.Request.New()));
        return seeds;
    }

    /// <summary>A valid ApiVersions v0 request with <see cref="EndCorrelationId"/>, as a whole frame.</summary>
    public static byte[] EndFrame()
    {
        using var writer = new KafkaWriter();
        KafkaFrames.WriteRequest(writer, new RequestHeader((short)ApiKey.ApiVersions, 0, EndCorrelationId, "fuzz"), KafkaApis.ApiVersions.Request.New());
        return writer.ToArray();
    }

    private static KafkaSeed Seed(string name, Api api, short version, StructValue body, byte[]? batch = null)
    {
        using var writer = new KafkaWriter();
        KafkaFrames.WriteRequest(writer, new RequestHeader((short)api.Key, version, 7, "fuzz"), body);
        var payload = writer.WrittenSpan[4..].ToArray();
        int batchAt = batch is null ? -1 : payload.AsSpan().IndexOf(batch);
        return new KafkaSeed(name, payload, batchAt);
    }

    private static KafkaSeed Produce(string name, short version, string topic, byte[] records)
    {
        var request = KafkaApis.Produce.Request.New().SetInt("Acks", version == 12 ? 1 : -1).SetInt("TimeoutMs", 5000);
        request.AddElement("TopicData").SetString("Name", topic)
            .AddElement("PartitionData").SetInt("Index", 0).SetBytes("Records", records);
        return Seed(name, KafkaApis.Produce, version, request, records[16] == RecordBatch.CurrentMagic ? records : null);
    }

    private static byte[] Batch(CompressionType codec, bool keyed, long producerId = -1)
    {
        var builder = new RecordBatchBuilder(codec) { ProducerId = producerId, ProducerEpoch = (short)(producerId >= 0 ? 0 : -1), BaseSequence = producerId >= 0 ? 0 : -1 };
        for (int i = 0; i < 3; i++)
            builder.Add(1_700_000_000_000 + i, keyed || i != 1 ? new byte[] { (byte)'k', (byte)i } : null,
                new byte[] { (byte)'v', (byte)i, 0, 1, 2, 3 }, new RecordHeader("h", new byte[] { (byte)i }));
        return builder.Build();
    }

    private static List<OldMessage> Messages() => [new("k0", "v0", 1_700_000_000_000), new(null, "v1", 1_700_000_000_001)];

    private static StructValue Fetch(string topic, bool readCommitted)
    {
        var request = KafkaApis.Fetch.Request.New().SetInt("ReplicaId", -1).SetInt("MaxWaitMs", 0).SetInt("MinBytes", 1)
            .SetInt("MaxBytes", 1 << 20).SetInt("IsolationLevel", readCommitted ? 1 : 0);
        var partitions = request.AddElement("Topics").SetString("Topic", topic);
        foreach (int p in new[] { 0, 1 })
            partitions.AddElement("Partitions").SetInt("Partition", p).SetInt("FetchOffset", 0).SetInt("PartitionMaxBytes", 64 * 1024);
        return request;
    }

    private static StructValue ListOffsets(string topic, long timestamp)
    {
        var request = KafkaApis.ListOffsets.Request.New().SetInt("ReplicaId", -1);
        request.AddElement("Topics").SetString("Name", topic).AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("Timestamp", timestamp);
        return request;
    }

    private static StructValue Metadata(string topic)
    {
        var request = KafkaApis.Metadata.Request.New().SetBool("AllowAutoTopicCreation", false);
        request.AddElement("Topics").SetString("Name", topic);
        return request;
    }

    private static StructValue JoinGroup()
    {
        var request = KafkaApis.JoinGroup.Request.New().SetString("GroupId", "fuzz-group").SetInt("SessionTimeoutMs", 10_000)
            .SetInt("RebalanceTimeoutMs", 10_000).SetString("MemberId", "").SetString("ProtocolType", "consumer");
        request.AddElement("Protocols").SetString("Name", "range").SetBytes("Metadata", new byte[] { 0, 1, 0, 0, 0, 1, 0, 4, (byte)'f', (byte)'u', (byte)'z', (byte)'z', 0, 0, 0, 0 });
        return request;
    }

    private static StructValue SyncGroup()
    {
        var request = KafkaApis.SyncGroup.Request.New().SetString("GroupId", "fuzz-group").SetInt("GenerationId", 1).SetString("MemberId", "m-1")
            .SetString("ProtocolType", "consumer").SetString("ProtocolName", "range");
        request.AddElement("Assignments").SetString("MemberId", "m-1").SetBytes("Assignment", new byte[] { 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 });
        return request;
    }

    private static StructValue LeaveGroup()
    {
        var request = KafkaApis.LeaveGroup.Request.New().SetString("GroupId", "fuzz-group");
        request.AddElement("Members").SetString("MemberId", "m-1");
        return request;
    }

    private static StructValue OffsetCommit(string topic)
    {
        var request = KafkaApis.OffsetCommit.Request.New().SetString("GroupId", "fuzz-commits").SetInt("GenerationIdOrMemberEpoch", -1).SetString("MemberId", "");
        request.AddElement("Topics").SetString("Name", topic).AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("CommittedOffset", 1)
            .SetString("CommittedMetadata", "m");
        return request;
    }

    private static StructValue OffsetFetch(string topic)
    {
        var request = KafkaApis.OffsetFetch.Request.New().SetString("GroupId", "fuzz-commits");
        request.AddElement("Topics").SetString("Name", topic).SetInt32Array("PartitionIndexes", [0, 1]);
        return request;
    }

    private static StructValue DescribeConfigs(string topic)
    {
        var request = KafkaApis.DescribeConfigs.Request.New();
        request.AddElement("Resources").SetInt("ResourceType", 2).SetString("ResourceName", topic).SetStringArray("ConfigurationKeys", null);
        return request;
    }

    private static StructValue OffsetForLeaderEpoch(string topic)
    {
        var request = KafkaApis.OffsetForLeaderEpoch.Request.New().SetInt("ReplicaId", -1);
        request.AddElement("Topics").SetString("Topic", topic).AddElement("Partitions").SetInt("Partition", 0).SetInt("CurrentLeaderEpoch", -1).SetInt("LeaderEpoch", 0);
        return request;
    }
}
