using System.Text;
using Quill.Broker.Groups;
using Quill.Kafka.Protocol.CoordinatorRecords;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Groups;

/// <summary>
/// The <c>__consumer_offsets</c> records are the bytes the interpreting codec makes of the published descriptions
/// (what Kafka's tools read), in every case the coordinator writes: both value versions, null protocol and leader,
/// static members; and every version Kafka may have written is read back.
/// </summary>
public class OffsetsRecordsTests
{
    [Fact]
    public void Keys_are_the_described_bytes()
    {
        var offsetKey = CoordinatorRecordSchemas.OffsetCommitKey.New().SetString("group", "g").SetString("topic", "t").SetInt("partition", 7);
        Assert.Equal(Encode(CoordinatorRecordSchemas.OffsetCommitKey, 0, 1, offsetKey), OffsetsRecords.OffsetKey("g", "t", 7));
        var groupKey = CoordinatorRecordSchemas.GroupMetadataKey.New().SetString("group", "g");
        Assert.Equal(Encode(CoordinatorRecordSchemas.GroupMetadataKey, 0, 2, groupKey), OffsetsRecords.GroupKey("g"));
    }

    [Theory]
    [InlineData(-1L, 3)]
    [InlineData(1_700_000_900_000L, 1)] // a retention time: v1, the only version with an expiry
    public void Offset_values_are_the_described_bytes_and_read_back(long expireTimestamp, short version)
    {
        var offset = new CommittedOffset(42, 5, "meta", 1_700_000_000_000, expireTimestamp);
        var described = CoordinatorRecordSchemas.OffsetCommitValue.New()
            .SetInt("offset", 42L).SetInt("leaderEpoch", 5).SetString("metadata", "meta")
            .SetInt("commitTimestamp", 1_700_000_000_000L).SetInt("expireTimestamp", expireTimestamp);
        byte[] bytes = OffsetsRecords.OffsetValue(offset);
        Assert.Equal(Encode(CoordinatorRecordSchemas.OffsetCommitValue, version, version, described), bytes);
        Assert.Equal(version == 1 ? offset with { LeaderEpoch = -1 } : offset, OffsetsRecords.ReadOffsetValue(bytes));
    }

    [Theory]
    [InlineData((short)0)]
    [InlineData((short)2)]
    [InlineData((short)3)]
    [InlineData((short)4)]
    [InlineData((short)5)] // newer than described: read as the newest
    public void Offset_values_of_every_version_are_read(short version)
    {
        var described = CoordinatorRecordSchemas.OffsetCommitValue.New()
            .SetInt("offset", 9L).SetInt("leaderEpoch", 2).SetString("metadata", "")
            .SetInt("commitTimestamp", 100L).SetInt("expireTimestamp", 200L);
        var read = OffsetsRecords.ReadOffsetValue(Encode(CoordinatorRecordSchemas.OffsetCommitValue, Math.Min(version, (short)4), version, described));
        Assert.Equal(new CommittedOffset(9, version >= 3 ? 2 : -1, "", 100, -1), read);
    }

    [Fact]
    public void Group_values_are_the_described_bytes_and_read_back()
    {
        var group = new StoredGroup("consumer", 4, null, null, 1_700_000_000_000,
        [
            new StoredMember("m-1", "static-1", "client", "/127.0.0.1", 60_000, 45_000, Encoding.UTF8.GetBytes("sub"), Encoding.UTF8.GetBytes("asg")),
            new StoredMember("m-2", null, "client", "/127.0.0.1", 30_000, 10_000, [], []),
        ]);
        var described = CoordinatorRecordSchemas.GroupMetadataValue.New()
            .SetString("protocolType", "consumer").SetInt("generation", 4).SetString("protocol", null).SetString("leader", null)
            .SetInt("currentStateTimestamp", 1_700_000_000_000L);
        foreach (var m in group.Members)
        {
            described.AddElement("members").SetString("memberId", m.MemberId).SetString("groupInstanceId", m.GroupInstanceId)
                .SetString("clientId", m.ClientId).SetString("clientHost", m.ClientHost).SetInt("rebalanceTimeout", m.RebalanceTimeoutMs)
                .SetInt("sessionTimeout", m.SessionTimeoutMs).SetBytes("subscription", m.Subscription).SetBytes("assignment", m.Assignment);
        }
        byte[] bytes = OffsetsRecords.GroupValue(group);
        Assert.Equal(Encode(CoordinatorRecordSchemas.GroupMetadataValue, 3, 3, described), bytes);

        var read = OffsetsRecords.ReadGroupValue(bytes);
        Assert.Equal((group.ProtocolType, group.Generation, group.Protocol, group.Leader, group.CurrentStateTimestampMs),
            (read.ProtocolType, read.Generation, read.Protocol, read.Leader, read.CurrentStateTimestampMs));
        Assert.Equal(group.Members.Select(Flatten), read.Members.Select(Flatten));
    }

    [Theory]
    [InlineData((short)0)]
    [InlineData((short)1)]
    [InlineData((short)2)]
    [InlineData((short)4)]
    public void Group_values_of_other_versions_are_read(short version)
    {
        var described = CoordinatorRecordSchemas.GroupMetadataValue.New()
            .SetString("protocolType", "consumer").SetInt("generation", 1).SetString("protocol", "range").SetString("leader", "m")
            .SetInt("currentStateTimestamp", 5L);
        described.AddElement("members").SetString("memberId", "m").SetString("groupInstanceId", "s").SetString("clientId", "c")
            .SetString("clientHost", "/h").SetInt("rebalanceTimeout", 7).SetInt("sessionTimeout", 6)
            .SetBytes("subscription", new byte[] { 1 }).SetBytes("assignment", new byte[] { 2 });
        var read = OffsetsRecords.ReadGroupValue(Encode(CoordinatorRecordSchemas.GroupMetadataValue, version, version, described));
        Assert.Equal(("consumer", 1, "range", "m", version >= 2 ? 5L : -1L), (read.ProtocolType, read.Generation, read.Protocol, read.Leader, read.CurrentStateTimestampMs));
        var member = Assert.Single(read.Members);
        Assert.Equal(("m", version >= 3 ? "s" : null, "c", "/h", version >= 1 ? 7 : 0, 6, "01", "02"), Flatten(member));
    }

    private static (string, string?, string, string, int, int, string, string) Flatten(StoredMember m) =>
        (m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, m.RebalanceTimeoutMs, m.SessionTimeoutMs,
            Convert.ToHexString(m.Subscription), Convert.ToHexString(m.Assignment));

    private static byte[] Encode(MessageSchema schema, short bodyVersion, short prefix, StructValue value)
    {
        using var writer = new KafkaWriter();
        writer.WriteInt16(prefix);
        MessageCodec.Encode(schema, bodyVersion, value, writer);
        return writer.ToArray();
    }
}
