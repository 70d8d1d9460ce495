using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Broker.Groups;

/// <summary>What a <c>__consumer_offsets</c> record key names.</summary>
internal enum OffsetsRecordKind
{
    OffsetCommit,
    GroupMetadata,
    /// <summary>A record type this coordinator does not keep (e.g. KIP-848 consumer-group records): skipped on load.</summary>
    Other,
}

internal readonly record struct OffsetsRecordKey(OffsetsRecordKind Kind, string Group, string Topic = "", int Partition = -1);

/// <summary>A group's state as its metadata record stores it (Kafka's GroupMetadataValue).</summary>
internal sealed record StoredGroup(
    string ProtocolType,
    int Generation,
    string? Protocol,
    string? Leader,
    long CurrentStateTimestampMs,
    IReadOnlyList<StoredMember> Members);

internal sealed record StoredMember(
    string MemberId,
    string? GroupInstanceId,
    string ClientId,
    string ClientHost,
    int RebalanceTimeoutMs,
    int SessionTimeoutMs,
    byte[] Subscription,
    byte[] Assignment);

/// <summary>
/// The records of <c>__consumer_offsets</c> in Kafka's own formats, so that tools reading the topic (or a Kafka
/// broker given the log) understand them. Every key and value starts with an int16 version; keys: 0 and 1 an
/// offset commit {group, topic, partition}, 2 group metadata {group}. Values: OffsetCommitValue v3 {offset,
/// leaderEpoch, metadata, commitTimestamp} (v1, with expireTimestamp, when a commit set a retention time) and
/// GroupMetadataValue v3. A null value is a tombstone. Bodies are described once, like the API messages.
/// </summary>
internal static class OffsetsRecords
{
    public const short OffsetCommitKeyVersion = 1;
    public const short GroupMetadataKeyVersion = 2;
    public const short OffsetCommitValueVersion = 3;
    public const short OffsetCommitValueWithExpiryVersion = 1;
    public const short GroupMetadataValueVersion = 3;

    private static readonly MessageSchema OffsetCommitKey = new("OffsetCommitKey", "0", "none",
        String("group", "0"),
        String("topic", "0"),
        Int32("partition", "0"));

    private static readonly MessageSchema GroupMetadataKey = new("GroupMetadataKey", "0", "none",
        String("group", "0"));

    private static readonly MessageSchema OffsetCommitValue = new("OffsetCommitValue", "0-4", "4+",
        Int64("offset", "0+"),
        Int32("leaderEpoch", "3+", -1),
        String("metadata", "0+"),
        Int64("commitTimestamp", "0+"),
        Int64("expireTimestamp", "1", -1));

    private static readonly MessageSchema GroupMetadataValue = new("GroupMetadataValue", "0-4", "4+",
        String("protocolType", "0+"),
        Int32("generation", "0+"),
        String("protocol", "0+").Nullable("0+"),
        String("leader", "0+").Nullable("0+"),
        Int64("currentStateTimestamp", "2+", -1),
        Array("members", "0+",
            String("memberId", "0+"),
            NullableString("groupInstanceId", "3+", "3+"),
            String("clientId", "0+"),
            String("clientHost", "0+"),
            Int32("rebalanceTimeout", "1+"),
            Int32("sessionTimeout", "0+"),
            Bytes("subscription", "0+"),
            Bytes("assignment", "0+")));

    // ---- writing ----

    public static byte[] OffsetKey(string group, string topic, int partition)
    {
        var key = OffsetCommitKey.New().SetString("group", group).SetString("topic", topic).SetInt("partition", partition);
        return Encode(OffsetCommitKey, 0, OffsetCommitKeyVersion, key);
    }

    public static byte[] GroupKey(string group) =>
        Encode(GroupMetadataKey, 0, GroupMetadataKeyVersion, GroupMetadataKey.New().SetString("group", group));

    public static byte[] OffsetValue(CommittedOffset offset)
    {
        short version = offset.ExpireTimestampMs >= 0 ? OffsetCommitValueWithExpiryVersion : OffsetCommitValueVersion;
        var value = OffsetCommitValue.New()
            .SetInt("offset", offset.Offset)
            .SetInt("leaderEpoch", offset.LeaderEpoch)
            .SetString("metadata", offset.Metadata)
            .SetInt("commitTimestamp", offset.CommitTimestampMs)
            .SetInt("expireTimestamp", offset.ExpireTimestampMs);
        return Encode(OffsetCommitValue, version, version, value);
    }

    public static byte[] GroupValue(StoredGroup group)
    {
        var value = GroupMetadataValue.New()
            .SetString("protocolType", group.ProtocolType)
            .SetInt("generation", group.Generation)
            .SetString("protocol", group.Protocol)
            .SetString("leader", group.Leader)
            .SetInt("currentStateTimestamp", group.CurrentStateTimestampMs);
        foreach (var m in group.Members)
        {
            value.AddElement("members")
                .SetString("memberId", m.MemberId)
                .SetString("groupInstanceId", m.GroupInstanceId)
                .SetString("clientId", m.ClientId)
                .SetString("clientHost", m.ClientHost)
                .SetInt("rebalanceTimeout", m.RebalanceTimeoutMs)
                .SetInt("sessionTimeout", m.SessionTimeoutMs)
                .SetBytes("subscription", m.Subscription)
                .SetBytes("assignment", m.Assignment);
        }
        return Encode(GroupMetadataValue, GroupMetadataValueVersion, GroupMetadataValueVersion, value);
    }

    private static byte[] Encode(MessageSchema schema, short schemaVersion, short prefix, StructValue value)
    {
        using var writer = new KafkaWriter(128);
        writer.WriteInt16(prefix);
        MessageCodec.Encode(schema, schemaVersion, value, writer);
        return writer.ToArray();
    }

    // ---- reading ----

    /// <summary>Reads a key; throws <see cref="KafkaProtocolException"/> if it is malformed.</summary>
    public static OffsetsRecordKey ReadKey(ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        switch (version)
        {
            case 0:
            case OffsetCommitKeyVersion:
                var offsetKey = MessageCodec.Decode(OffsetCommitKey, 0, ref reader);
                return new OffsetsRecordKey(OffsetsRecordKind.OffsetCommit, offsetKey.GetString("group")!,
                    offsetKey.GetString("topic")!, offsetKey.GetInt32("partition"));
            case GroupMetadataKeyVersion:
                var groupKey = MessageCodec.Decode(GroupMetadataKey, 0, ref reader);
                return new OffsetsRecordKey(OffsetsRecordKind.GroupMetadata, groupKey.GetString("group")!);
            default:
                return new OffsetsRecordKey(OffsetsRecordKind.Other, "");
        }
    }

    public static CommittedOffset ReadOffsetValue(ReadOnlyMemory<byte> bytes)
    {
        var (version, value) = DecodeVersioned(OffsetCommitValue, bytes);
        return new CommittedOffset(
            value.GetInt64("offset"),
            version >= 3 ? value.GetInt32("leaderEpoch") : -1,
            value.GetString("metadata") ?? "",
            value.GetInt64("commitTimestamp"),
            version == 1 ? value.GetInt64("expireTimestamp") : -1);
    }

    public static StoredGroup ReadGroupValue(ReadOnlyMemory<byte> bytes)
    {
        var (_, value) = DecodeVersioned(GroupMetadataValue, bytes);
        var members = new List<StoredMember>();
        foreach (var m in value.GetArray("members") ?? [])
        {
            members.Add(new StoredMember(
                m.GetString("memberId") ?? "",
                m.GetString("groupInstanceId"),
                m.GetString("clientId") ?? "",
                m.GetString("clientHost") ?? "",
                m.GetInt32("rebalanceTimeout"),
                m.GetInt32("sessionTimeout"),
                (m.GetBytes("subscription") ?? ReadOnlyMemory<byte>.Empty).ToArray(),
                (m.GetBytes("assignment") ?? ReadOnlyMemory<byte>.Empty).ToArray()));
        }
        return new StoredGroup(
            value.GetString("protocolType") ?? "",
            value.GetInt32("generation"),
            value.GetString("protocol"),
            value.GetString("leader"),
            value.GetInt64("currentStateTimestamp"),
            members);
    }

    private static (short Version, StructValue Value) DecodeVersioned(MessageSchema schema, ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        // Newer versions only add tagged fields (KIP-915), so read them as the newest version described.
        short readAs = Math.Min(version, schema.ValidVersions.Max);
        if (readAs < 0) throw new KafkaProtocolException($"{schema.Name} version {version} is invalid");
        return (version, MessageCodec.Decode(schema, readAs, ref reader));
    }
}
