using System.Buffers.Binary;
using System.Text;
using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

public class PersistenceTests
{
    [Fact]
    public async Task Offsets_and_groups_survive_a_restart_and_members_carry_on_without_a_rebalance()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });
        var (members, generation) = await h.FormGroup("durable", "a", "b");
        await h.CommitOffsets("durable", generation, members["a"], offsets: [("t", 0, 100), ("t", 1, 200)]);
        await h.CommitOffsets("durable", generation, members["b"], offsets: ("t", 0, 101));
        await h.CommitOffsets("simple", offsets: ("u", 4, 7));

        h.Restart();

        var fetched = Offsets(await h.FetchOffsets("durable", 7, ("t", [0, 1])));
        Assert.Equal((101L, 5, "m101", KafkaError.None), fetched[("t", 0)]);
        Assert.Equal((200L, 5, "m200", KafkaError.None), fetched[("t", 1)]);
        Assert.Equal(7L, Offsets(await h.FetchOffsets("simple", 7, ("u", [4])))[("u", 4)].Offset);

        var group = Assert.Single((await h.DescribeGroups(5, "durable")).GetArray("Groups")!);
        Assert.Equal("Stable", group.GetString("GroupState"));
        Assert.Equal("range", group.GetString("ProtocolData"));
        Assert.Equal(["p-a", "p-b"], group.GetArray("Members")!.Select(m => Text(m.GetBytes("MemberAssignment"))).Order());
        Assert.Equal(["range:a", "range:b"], group.GetArray("Members")!.Select(m => Text(m.GetBytes("MemberMetadata"))).Order());
        // The members' sessions restarted with the broker: their heartbeats and commits still count.
        Assert.Equal(KafkaError.None, await h.Heartbeat("durable", generation, members["a"]));
        Assert.Equal(KafkaError.None, await h.Heartbeat("durable", generation, members["b"]));
        var sync = await h.SyncGroup("durable", generation, members["b"]).Within();
        Assert.Equal("p-b", Text(sync.GetBytes("Assignment")));
        // The leader is still the leader: its rejoin starts the next generation with both.
        var a = h.JoinGroup("durable", members["a"], clientId: "a");
        var b = h.JoinGroup("durable", members["b"], clientId: "b");
        var joins = await Task.WhenAll(a, b).Within();
        Assert.Equal(members["a"], joins[0].GetString("Leader"));
        Assert.Equal(generation + 1, joins[0].GetInt32("GenerationId"));
    }

    [Fact]
    public async Task Members_that_do_not_come_back_after_a_restart_expire()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });
        var (members, generation) = await h.FormGroup("g", "a");
        await h.CommitOffsets("g", generation, members["a"], offsets: ("t", 0, 1));
        h.Restart();
        h.Advance(10_200);
        var group = Assert.Single((await h.DescribeGroups(5, "g")).GetArray("Groups")!);
        Assert.Equal("Empty", group.GetString("GroupState"));
        h.Restart();
        // The empty generation was stored too.
        group = Assert.Single((await h.DescribeGroups(5, "g")).GetArray("Groups")!);
        Assert.Equal("Empty", group.GetString("GroupState"));
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("g", generation, members["a"]));
        Assert.Equal(1L, Offsets(await h.FetchOffsets("g", 7, ("t", [0])))[("t", 0)].Offset);
    }

    [Fact]
    public async Task Deleted_groups_stay_deleted_after_a_restart()
    {
        using var h = new GroupHarness();
        await h.CommitOffsets("doomed", offsets: ("t", 0, 1));
        await h.CommitOffsets("kept", offsets: ("t", 0, 2));
        var delete = await h.Send(Quill.Kafka.Protocol.Messages.ApiKey.DeleteGroups, 2, b => b.SetStringArray("GroupsNames", ["doomed"]));
        Assert.Equal(KafkaError.None, Errors.Of(Assert.Single(delete.GetArray("Results")!)));
        h.Restart();
        Assert.Equal(-1L, Offsets(await h.FetchOffsets("doomed", 7, ("t", [0])))[("t", 0)].Offset);
        Assert.Equal(2L, Offsets(await h.FetchOffsets("kept", 7, ("t", [0])))[("t", 0)].Offset);
        var described = Assert.Single((await h.DescribeGroups(5, "doomed")).GetArray("Groups")!);
        Assert.Equal("Dead", described.GetString("GroupState"));
    }

    [Fact]
    public void Groups_are_placed_on_partitions_as_Kafka_places_them()
    {
        // abs(Java String.hashCode) % partitions, computed independently (with Python) for these ids.
        Assert.Equal(12, OffsetsTopic.PartitionFor("test-group", 50));
        Assert.Equal(12, OffsetsTopic.PartitionFor("my-group", 50)); // negative hash
        Assert.Equal(6, OffsetsTopic.PartitionFor("console-consumer-12345", 50));
        Assert.Equal(3, OffsetsTopic.PartitionFor("g", 50));
        Assert.Equal(0, OffsetsTopic.PartitionFor("", 50));
        Assert.Equal(2, OffsetsTopic.PartitionFor("test-group", 3));
    }

    [Fact]
    public async Task Records_are_written_in_Kafkas_formats_to_the_groups_partition()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0 });
        var (members, generation) = await h.FormGroup("test-group", "a");
        await h.CommitOffsets("test-group", generation, members["a"], offsets: ("topic", 3, 77));

        int partition = OffsetsTopic.PartitionFor("test-group", GroupHarness.Partitions);
        for (int p = 0; p < GroupHarness.Partitions; p++)
            if (p != partition) Assert.Empty(h.OffsetsLog.ReadAll(p));
        var records = h.OffsetsLog.ReadAll(partition).SelectMany(b => b.ReadRecords()).ToList();

        // Group metadata: key v2 {group}; value v3 {protocolType, generation, protocol, leader, currentStateTimestamp, members[...]}.
        var groupRecord = records.Last(r => Version(r.Key) == 2);
        var key = new Reader(groupRecord.Key!.Value);
        Assert.Equal(2, key.Int16());
        Assert.Equal("test-group", key.String());
        Assert.True(key.AtEnd);
        var value = new Reader(groupRecord.Value!.Value);
        Assert.Equal(3, value.Int16());
        Assert.Equal("consumer", value.String());
        Assert.Equal(generation, value.Int32());
        Assert.Equal("range", value.String());
        Assert.Equal(members["a"], value.String());
        Assert.InRange(value.Int64(), h.Clock.NowMs - 5_000, h.Clock.NowMs); // current state timestamp
        Assert.Equal(1, value.Int32()); // members
        Assert.Equal(members["a"], value.String());
        Assert.Null(value.String()); // group instance id
        Assert.Equal("a", value.String()); // client id
        Assert.Equal("/127.0.0.1", value.String());
        Assert.Equal(RebalanceTimeoutMs, value.Int32());
        Assert.Equal(SessionTimeoutMs, value.Int32());
        Assert.Equal("range:a", Encoding.UTF8.GetString(value.Bytes()));
        Assert.Equal("p-a", Encoding.UTF8.GetString(value.Bytes()));
        Assert.True(value.AtEnd);

        // Offset commit: key v1 {group, topic, partition}; value v3 {offset, leaderEpoch, metadata, commitTimestamp}.
        var offsetRecord = Assert.Single(records, r => Version(r.Key) == 1);
        key = new Reader(offsetRecord.Key!.Value);
        Assert.Equal(1, key.Int16());
        Assert.Equal("test-group", key.String());
        Assert.Equal("topic", key.String());
        Assert.Equal(3, key.Int32());
        value = new Reader(offsetRecord.Value!.Value);
        Assert.Equal(3, value.Int16());
        Assert.Equal(77, value.Int64());
        Assert.Equal(5, value.Int32());
        Assert.Equal("m77", value.String());
        Assert.Equal(h.Clock.NowMs, value.Int64());
        Assert.True(value.AtEnd);
    }

    [Fact]
    public async Task The_offsets_topic_is_compacted_and_compaction_keeps_what_the_coordinator_needs()
    {
        using var h = new GroupHarness();
        Assert.All(h.OffsetsLog.Partitions, p => Assert.True(p.Config.CleanupPolicy.HasFlag(Quill.Broker.Log.CleanupPolicy.Compact)));
        for (int i = 0; i < 20; i++) await h.CommitOffsets("busy", offsets: ("t", 0, i));
        int partition = OffsetsTopic.PartitionFor("busy", GroupHarness.Partitions);
        var log = h.OffsetsLog.Partitions[partition];
        log.Roll();
        Quill.Broker.Log.LogCleaner.Clean(log, h.Clock);
        Assert.Single(h.OffsetsLog.ReadAll(partition).SelectMany(b => b.ReadRecords()));
        h.Restart();
        Assert.Equal(19L, Offsets(await h.FetchOffsets("busy", 7, ("t", [0])))[("t", 0)].Offset);
    }

    private static short Version(ReadOnlyMemory<byte>? key) => BinaryPrimitives.ReadInt16BigEndian(key!.Value.Span);

    /// <summary>Reads Kafka's classic (non-flexible) encodings by hand, independently of the coordinator's codec.</summary>
    private sealed class Reader(ReadOnlyMemory<byte> bytes)
    {
        private int _position;
        private ReadOnlySpan<byte> Take(int n)
        {
            var span = bytes.Span.Slice(_position, n);
            _position += n;
            return span;
        }
        public bool AtEnd => _position == bytes.Length;
        public short Int16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
        public int Int32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
        public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
        public string? String()
        {
            short length = Int16();
            return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
        }
        public byte[] Bytes() => Take(Int32()).ToArray();
    }
}
