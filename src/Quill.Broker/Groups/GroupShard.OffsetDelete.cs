using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

/// <summary>What OffsetDelete did to one group: a group-level error, or one error per partition asked for.</summary>
public sealed record OffsetDeleteResult(KafkaError Error, IReadOnlyList<(string Topic, int Partition, KafkaError Error)> Partitions);

// OffsetDelete (KIP-496).
internal sealed partial class GroupShard
{
    /// <summary>
    /// OffsetDelete: removes the group's committed offsets of <paramref name="partitions"/>, as tombstones in the log
    /// so they stay gone after a restart. An empty group loses any of them; a consumer group with members keeps the
    /// offsets of topics its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC) and loses the others; any other group
    /// with members refuses (NON_EMPTY_GROUP). An empty group left without offsets is deleted, as expiry does.
    /// </summary>
    public OffsetDeleteResult DeleteOffsets(string groupId, IReadOnlyList<(string Topic, int Partition)> partitions)
    {
        if (NotActiveError() is { } notActive) return new OffsetDeleteResult(notActive, []);
        if (groupId.Length == 0) return new OffsetDeleteResult(KafkaError.InvalidGroupId, []);
        if (FindGroup(groupId) is not { } group) return new OffsetDeleteResult(KafkaError.GroupIdNotFound, []);
        var results = new List<(string, int, KafkaError)>(partitions.Count);
        var deletable = new List<(string Topic, int Partition)>(partitions.Count);
        switch (group.State)
        {
            case GroupState.Dead:
                return new OffsetDeleteResult(KafkaError.GroupIdNotFound, []);
            case GroupState.Empty:
                deletable.AddRange(partitions);
                break;
            default:
                if (group.ProtocolType != ConsumerProtocolType) return new OffsetDeleteResult(KafkaError.NonEmptyGroup, []);
                var subscribed = SubscribedTopics(group);
                foreach (var (topic, partition) in partitions)
                {
                    if (subscribed.Contains(topic)) results.Add((topic, partition, KafkaError.GroupSubscribedToTopic));
                    else deletable.Add((topic, partition));
                }
                break;
        }
        if (deletable.Count == 0) return new OffsetDeleteResult(KafkaError.None, results);

        long now = NowMs;
        // An open transaction's offsets for these partitions go too, so its commit cannot bring them back.
        foreach (var pending in group.PendingTransactionalOffsets.Values)
            foreach (var key in deletable) pending.Remove(key);
        var removed = deletable.Where(group.Offsets.ContainsKey).Distinct().ToList();
        bool deleteGroup = group.Is(GroupState.Empty) && group.Offsets.Count == removed.Count
            && group.PendingMembers.Count == 0 && group.PendingTransactionalOffsets.Count == 0;
        if (removed.Count > 0)
        {
            var tombstones = new RecordBatchBuilder();
            foreach (var (topic, partition) in removed) tombstones.Add(now, OffsetsRecords.OffsetKey(group.GroupId, topic, partition), null);
            if (deleteGroup) tombstones.Add(now, OffsetsRecords.GroupKey(group.GroupId), null);
            if (Append(group, tombstones) != KafkaError.None) return new OffsetDeleteResult(KafkaError.NotCoordinator, []);
            foreach (var key in removed) group.Offsets.Remove(key);
            if (deleteGroup) RemoveGroup(group, now);
            _logger.LogInformation("Deleted {Count} committed offsets of group {Group}{Deleted}", removed.Count, LogSafe.Text(group.GroupId),
                deleteGroup ? "; the group is gone" : "");
        }
        foreach (var (topic, partition) in deletable) results.Add((topic, partition, KafkaError.None));
        return new OffsetDeleteResult(KafkaError.None, results);
    }

    private const string ConsumerProtocolType = "consumer";

    /// <summary>
    /// The topics the members' subscriptions (consumer protocol, for the group's chosen assignor) name. Empty when no
    /// protocol is chosen yet or a subscription cannot be read: then, as in Kafka, no topic counts as subscribed.
    /// </summary>
    private static HashSet<string> SubscribedTopics(ClassicGroup group)
    {
        var topics = new HashSet<string>(StringComparer.Ordinal);
        if (group.ProtocolName is null) return topics;
        foreach (var member in group.Members)
        {
            if (!TryReadSubscribedTopics(member.MetadataFor(group.ProtocolName), topics))
                return [];
        }
        return topics;
    }

    /// <summary>
    /// Reads the topics of a ConsumerProtocolSubscription: an int16 version, then (in every version) the topic names as
    /// a classic array of int16-length strings.
    /// </summary>
    private static bool TryReadSubscribedTopics(byte[] subscription, HashSet<string> topics)
    {
        try
        {
            var reader = new KafkaReader(subscription);
            if (reader.ReadInt16() < 0) return false;
            int count = reader.ReadArrayLength(compact: false, nullable: false, minElementSize: 2);
            for (int i = 0; i < count; i++) topics.Add(reader.ReadString(compact: false, nullable: false)!);
            return true;
        }
        catch (KafkaProtocolException)
        {
            return false;
        }
    }
}
