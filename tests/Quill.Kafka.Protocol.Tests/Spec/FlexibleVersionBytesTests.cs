using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>
/// For the APIs whose upper versions were checked against the specs, every advertised flexible version as bytes
/// built by hand from the spec (<see cref="SpecWire"/>): the codec must write exactly those bytes and read them back
/// to the same values. Fields left unset are written at their spec default.
/// </summary>
public class FlexibleVersionBytesTests
{
    private const string TopicId = "00112233-4455-6677-8899-aabbccddeeff";

    private static void AssertWire(MessageSchema schema, short version, StructValue value, SpecWire expected)
    {
        byte[] bytes = expected.ToArray();
        using var writer = new KafkaWriter();
        MessageCodec.Encode(schema, version, value, writer);
        Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(writer.ToArray()));
        var decoded = MessageCodec.Decode(schema, version, bytes);
        Assert.True(value.ContentEquals(decoded), $"{schema.Name} v{version}\nbuilt {value}\nread  {decoded}");
    }

    public static TheoryData<short> Versions(int from, int to)
    {
        var data = new TheoryData<short>();
        for (int v = from; v <= to; v++) data.Add((short)v);
        return data;
    }

    // ---- ListOffsets 6-10 ----

    [Theory]
    [MemberData(nameof(Versions), 6, 10)]
    public void ListOffsetsRequest_flexible_versions_are_the_spec_bytes(short v)
    {
        long timestamp = v >= 9 ? -5 : v >= 8 ? -4 : v >= 7 ? -3 : -2;
        var body = ListOffsetsApi.Request.New().SetInt("ReplicaId", -1).SetInt("IsolationLevel", 1);
        body.AddElement("Topics").SetString("Name", "t")
            .AddElement("Partitions").SetInt("PartitionIndex", 2).SetInt("CurrentLeaderEpoch", 5).SetInt("Timestamp", timestamp);
        if (v >= 10) body.SetInt("TimeoutMs", 30000);

        var wire = new SpecWire().Int32(-1).Int8(1)
            .CompactArray(1).CompactString("t")
                .CompactArray(1).Int32(2).Int32(5).Int64(timestamp).NoTaggedFields()
                .NoTaggedFields()
            .If(v >= 10, w => w.Int32(30000))
            .NoTaggedFields();
        AssertWire(ListOffsetsApi.Request, v, body, wire);
    }

    [Theory]
    [MemberData(nameof(Versions), 6, 10)]
    public void ListOffsetsResponse_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = ListOffsetsApi.Response.New().SetInt("ThrottleTimeMs", 7);
        body.AddElement("Topics").SetString("Name", "t")
            .AddElement("Partitions").SetInt("PartitionIndex", 2).SetInt("Offset", 42); // Timestamp and LeaderEpoch left at -1

        var wire = new SpecWire().Int32(7)
            .CompactArray(1).CompactString("t")
                .CompactArray(1).Int32(2).Int16(0).Int64(-1).Int64(42).Int32(-1).NoTaggedFields()
                .NoTaggedFields()
            .NoTaggedFields();
        AssertWire(ListOffsetsApi.Response, v, body, wire);
    }

    // ---- Fetch 12-17 ----

    [Theory]
    [MemberData(nameof(Versions), 12, 17)]
    public void FetchRequest_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = FetchApi.Request.New().SetString("ClusterId", "c")
            .SetInt("MaxWaitMs", 500).SetInt("MinBytes", 1).SetInt("MaxBytes", 52428800).SetInt("IsolationLevel", 1);
        if (v >= 15) body.GetStruct("ReplicaState").SetInt("ReplicaId", 1).SetInt("ReplicaEpoch", 7);
        var topic = body.AddElement("Topics");
        if (v >= 13) topic.SetUuid("TopicId", Guid.Parse(TopicId));
        else topic.SetString("Topic", "t");
        var partition = topic.AddElement("Partitions").SetInt("Partition", 0).SetInt("CurrentLeaderEpoch", 5)
            .SetInt("FetchOffset", 100).SetInt("PartitionMaxBytes", 1048576);
        if (v >= 17) partition.SetUuid("ReplicaDirectoryId", Guid.Parse(TopicId));

        (int, SpecWire)[] partitionTags = v >= 17 ? [(0, new SpecWire().Uuid(TopicId))] : [];
        var topTags = new List<(int, SpecWire)> { (0, new SpecWire().CompactString("c")) };
        if (v >= 15) topTags.Add((1, new SpecWire().Int32(1).Int64(7).NoTaggedFields()));
        var wire = new SpecWire()
            .If(v <= 14, w => w.Int32(-1)) // ReplicaId, at its default
            .Int32(500).Int32(1).Int32(52428800).Int8(1).Int32(0).Int32(-1)
            .CompactArray(1)
                .If(v <= 12, w => w.CompactString("t")).If(v >= 13, w => w.Uuid(TopicId))
                .CompactArray(1).Int32(0).Int32(5).Int64(100).Int32(-1).Int64(-1).Int32(1048576).TaggedFields(partitionTags)
                .NoTaggedFields()
            .CompactArray(0) // ForgottenTopicsData
            .CompactString("") // RackId
            .TaggedFields([.. topTags]);
        AssertWire(FetchApi.Request, v, body, wire);
    }

    [Theory]
    [MemberData(nameof(Versions), 12, 17)]
    public void FetchResponse_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = FetchApi.Response.New();
        var topic = body.AddElement("Responses");
        if (v >= 13) topic.SetUuid("TopicId", Guid.Parse(TopicId));
        else topic.SetString("Topic", "t");
        var partition = topic.AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("HighWatermark", 10)
            .SetInt("LastStableOffset", 10).SetInt("LogStartOffset", 0).SetBytes("Records", new byte[] { 1, 2, 3 });
        partition.GetStruct("CurrentLeader").SetInt("LeaderId", 1).SetInt("LeaderEpoch", 5);
        if (v >= 16) body.AddElement("NodeEndpoints").SetInt("NodeId", 1).SetString("Host", "h").SetInt("Port", 9092);

        var wire = new SpecWire().Int32(0).Int16(0).Int32(0)
            .CompactArray(1)
                .If(v <= 12, w => w.CompactString("t")).If(v >= 13, w => w.Uuid(TopicId))
                .CompactArray(1).Int32(0).Int16(0).Int64(10).Int64(10).Int64(0)
                    .CompactArray(0) // AbortedTransactions: the spec's default is an empty array, not null
                    .Int32(-1) // PreferredReadReplica
                    .CompactBytes([1, 2, 3])
                    .TaggedFields((1, new SpecWire().Int32(1).Int32(5).NoTaggedFields())) // CurrentLeader; the other structs are at their defaults
                .NoTaggedFields();
        if (v >= 16)
            wire.TaggedFields((0, new SpecWire().CompactArray(1).Int32(1).CompactString("h").Int32(9092).CompactString(null).NoTaggedFields()));
        else
            wire.NoTaggedFields();
        AssertWire(FetchApi.Response, v, body, wire);
    }

    [Fact]
    public void FetchResponse_can_still_say_null_AbortedTransactions()
    {
        var body = FetchApi.Response.New();
        body.AddElement("Responses").SetString("Topic", "t").AddElement("Partitions").SetArray("AbortedTransactions", null);
        var wire = new SpecWire().Int32(0).Int16(0).Int32(0)
            .CompactArray(1).CompactString("t")
                .CompactArray(1).Int32(0).Int16(0).Int64(0).Int64(-1).Int64(-1).CompactArray(-1).Int32(-1).CompactBytes(null).NoTaggedFields()
                .NoTaggedFields()
            .NoTaggedFields();
        AssertWire(FetchApi.Response, 12, body, wire);
    }

    // ---- FindCoordinator 3-6 ----

    [Theory]
    [MemberData(nameof(Versions), 3, 6)]
    public void FindCoordinatorRequest_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = FindCoordinatorApi.Request.New().SetInt("KeyType", 0);
        if (v >= 4) body.SetStringArray("CoordinatorKeys", ["g1", "g2"]);
        else body.SetString("Key", "g1");

        var wire = new SpecWire()
            .If(v <= 3, w => w.CompactString("g1"))
            .Int8(0)
            .If(v >= 4, w => w.CompactArray(2).CompactString("g1").CompactString("g2"))
            .NoTaggedFields();
        AssertWire(FindCoordinatorApi.Request, v, body, wire);
    }

    [Theory]
    [MemberData(nameof(Versions), 3, 6)]
    public void FindCoordinatorResponse_flexible_versions_are_the_spec_bytes(short v)
    {
        // ErrorMessage left unset: the spec gives it no default, so it is "" (not null).
        var body = FindCoordinatorApi.Response.New().SetInt("ThrottleTimeMs", 3);
        if (v >= 4) body.AddElement("Coordinators").SetString("Key", "g1").SetInt("NodeId", 1).SetString("Host", "h").SetInt("Port", 9092);
        else body.SetInt("NodeId", 1).SetString("Host", "h").SetInt("Port", 9092);

        var wire = new SpecWire().Int32(3);
        if (v <= 3) wire.Int16(0).CompactString("").Int32(1).CompactString("h").Int32(9092);
        else wire.CompactArray(1).CompactString("g1").Int32(1).CompactString("h").Int32(9092).Int16(0).CompactString("").NoTaggedFields();
        wire.NoTaggedFields();
        AssertWire(FindCoordinatorApi.Response, v, body, wire);
    }

    // ---- LeaveGroup 4-5 ----

    [Theory]
    [MemberData(nameof(Versions), 4, 5)]
    public void LeaveGroupRequest_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = LeaveGroupApi.Request.New().SetString("GroupId", "g");
        var member = body.AddElement("Members").SetString("MemberId", "m"); // GroupInstanceId: default null
        if (v >= 5) member.SetString("Reason", "r");

        var wire = new SpecWire().CompactString("g")
            .CompactArray(1).CompactString("m").CompactString(null).If(v >= 5, w => w.CompactString("r")).NoTaggedFields()
            .NoTaggedFields();
        AssertWire(LeaveGroupApi.Request, v, body, wire);
    }

    [Theory]
    [MemberData(nameof(Versions), 4, 5)]
    public void LeaveGroupResponse_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = LeaveGroupApi.Response.New();
        body.AddElement("Members").SetString("MemberId", "m").SetInt("ErrorCode", 25); // GroupInstanceId: default ""

        var wire = new SpecWire().Int32(0).Int16(0)
            .CompactArray(1).CompactString("m").CompactString("").Int16(25).NoTaggedFields()
            .NoTaggedFields();
        AssertWire(LeaveGroupApi.Response, v, body, wire);
    }

    // ---- CreateTopics 5-7 ----

    [Theory]
    [MemberData(nameof(Versions), 5, 7)]
    public void CreateTopicsRequest_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = CreateTopicsApi.Request.New(); // TimeoutMs: default 60000
        var topic = body.AddElement("Topics").SetString("Name", "t").SetInt("NumPartitions", 3).SetInt("ReplicationFactor", 1);
        topic.AddElement("Configs").SetString("Name", "cleanup.policy").SetString("Value", "compact");

        var wire = new SpecWire()
            .CompactArray(1).CompactString("t").Int32(3).Int16(1)
                .CompactArray(0)
                .CompactArray(1).CompactString("cleanup.policy").CompactString("compact").NoTaggedFields()
                .NoTaggedFields()
            .Int32(60000).Bool(false)
            .NoTaggedFields();
        AssertWire(CreateTopicsApi.Request, v, body, wire);
    }

    [Theory]
    [MemberData(nameof(Versions), 5, 7)]
    public void CreateTopicsResponse_flexible_versions_are_the_spec_bytes(short v)
    {
        var body = CreateTopicsApi.Response.New();
        var topic = body.AddElement("Topics").SetString("Name", "t").SetInt("ErrorCode", 36).SetInt("TopicConfigErrorCode", 29);
        if (v >= 7) topic.SetUuid("TopicId", Guid.Parse(TopicId));

        // ErrorMessage "" and Configs empty: neither has a default in the spec; NumPartitions/ReplicationFactor -1.
        var wire = new SpecWire().Int32(0)
            .CompactArray(1).CompactString("t")
                .If(v >= 7, w => w.Uuid(TopicId))
                .Int16(36).CompactString("").Int32(-1).Int16(-1).CompactArray(0)
                .TaggedFields((0, new SpecWire().Int16(29)))
            .NoTaggedFields();
        AssertWire(CreateTopicsApi.Response, v, body, wire);
    }
}
