using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Primitives;

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
/// GroupMetadataValue v3. A null value is a tombstone. Bodies are the classes generated from
/// <see cref="Quill.Kafka.Protocol.CoordinatorRecords.CoordinatorRecordSchemas"/>.
/// </summary>
internal static class OffsetsRecords
{
    public const short OffsetCommitKeyVersion = 1;
    public const short GroupMetadataKeyVersion = 2;
    public const short OffsetCommitValueVersion = 3;
    public const short OffsetCommitValueWithExpiryVersion = 1;
    public const short GroupMetadataValueVersion = 3;

    // ---- writing ----

    public static byte[] OffsetKey(string group, string topic, int partition) =>
        // Both key versions have body version 0: the prefix only tells offset keys from group keys.
        Encode(OffsetCommitKeyVersion, new OffsetCommitKeyData { Group = group, Topic = topic, Partition = partition }, 0);

    public static byte[] GroupKey(string group) =>
        Encode(GroupMetadataKeyVersion, new GroupMetadataKeyData { Group = group }, 0);

    public static byte[] OffsetValue(CommittedOffset offset)
    {
        short version = offset.ExpireTimestampMs >= 0 ? OffsetCommitValueWithExpiryVersion : OffsetCommitValueVersion;
        var value = new OffsetCommitValueData
        {
            Offset = offset.Offset,
            LeaderEpoch = offset.LeaderEpoch,
            Metadata = offset.Metadata,
            CommitTimestamp = offset.CommitTimestampMs,
            ExpireTimestamp = offset.ExpireTimestampMs,
        };
        return Encode(version, value, version);
    }

    public static byte[] GroupValue(StoredGroup group)
    {
        var value = new GroupMetadataValueData
        {
            ProtocolType = group.ProtocolType,
            Generation = group.Generation,
            Protocol = group.Protocol,
            Leader = group.Leader,
            CurrentStateTimestamp = group.CurrentStateTimestampMs,
        };
        foreach (var m in group.Members)
        {
            value.Members.Add(new GroupMetadataValueData.membersItem
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                RebalanceTimeout = m.RebalanceTimeoutMs,
                SessionTimeout = m.SessionTimeoutMs,
                Subscription = m.Subscription,
                Assignment = m.Assignment,
            });
        }
        return Encode(GroupMetadataValueVersion, value, GroupMetadataValueVersion);
    }

    private static byte[] Encode(short prefix, IKafkaMessage body, short bodyVersion)
    {
        using var writer = new KafkaWriter(128);
        writer.WriteInt16(prefix);
        body.Write(writer, bodyVersion);
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
                var offsetKey = OffsetCommitKeyData.Read(ref reader, 0);
                return new OffsetsRecordKey(OffsetsRecordKind.OffsetCommit, offsetKey.Group, offsetKey.Topic, offsetKey.Partition);
            case GroupMetadataKeyVersion:
                var groupKey = GroupMetadataKeyData.Read(ref reader, 0);
                return new OffsetsRecordKey(OffsetsRecordKind.GroupMetadata, groupKey.Group);
            default:
                return new OffsetsRecordKey(OffsetsRecordKind.Other, "");
        }
    }

    public static CommittedOffset ReadOffsetValue(ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        var value = OffsetCommitValueData.Read(ref reader, ReadAs(version, OffsetCommitValueData.HighestSupportedVersion, "OffsetCommitValue"));
        return new CommittedOffset(
            value.Offset,
            version >= 3 ? value.LeaderEpoch : -1,
            value.Metadata,
            value.CommitTimestamp,
            version == 1 ? value.ExpireTimestamp : -1);
    }

    public static StoredGroup ReadGroupValue(ReadOnlyMemory<byte> bytes)
    {
        var reader = new KafkaReader(bytes);
        short version = reader.ReadInt16();
        var value = GroupMetadataValueData.Read(ref reader, ReadAs(version, GroupMetadataValueData.HighestSupportedVersion, "GroupMetadataValue"));
        var members = new List<StoredMember>(value.Members.Count);
        foreach (var m in value.Members)
        {
            // Copies: the bytes are slices of the log buffer being replayed.
            members.Add(new StoredMember(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost, m.RebalanceTimeout,
                m.SessionTimeout, m.Subscription.ToArray(), m.Assignment.ToArray()));
        }
        return new StoredGroup(value.ProtocolType, value.Generation, value.Protocol, value.Leader, value.CurrentStateTimestamp, members);
    }

    /// <summary>Newer versions only add tagged fields (KIP-915), so they are read as the newest version described.</summary>
    private static short ReadAs(short version, short highest, string name)
    {
        short readAs = Math.Min(version, highest);
        if (readAs < 0) throw new KafkaProtocolException($"{name} version {version} is invalid");
        return readAs;
    }
}
