using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

// Offsets committed inside transactions (TxnOffsetCommit), kept pending until the transaction ends.
internal sealed partial class GroupShard
{
    /// <summary>
    /// TxnOffsetCommit: the offsets are written to <c>__consumer_offsets</c> as a transactional batch of the producer
    /// and held pending; they become the group's committed offsets when the transaction commits
    /// (<see cref="CompleteTransaction"/>) and are dropped when it aborts. Members are checked as OffsetCommit checks
    /// them when the request names one (v3+); a producer outside the group commits with generation -1.
    /// </summary>
    public KafkaError[] CommitTransactionalOffsets(string groupId, long producerId, short producerEpoch, string memberId,
        string? groupInstanceId, int generationId, IReadOnlyList<OffsetCommitEntry> offsets, Func<string, int, bool>? partitionExists = null)
    {
        var errors = new KafkaError[offsets.Count];
        if (NotActiveError() is { } notActive) return Fill(errors, notActive);
        long now = NowMs;
        var group = FindGroup(groupId) ?? GetOrCreateGroup(groupId, now);
        if (group.Is(GroupState.Dead)) return Fill(errors, KafkaError.CoordinatorNotAvailable);
        if (group.IsStaticMemberFenced(groupInstanceId, memberId)) return Fill(errors, KafkaError.FencedInstanceId);
        if (memberId.Length > 0 || generationId >= 0)
        {
            if (!group.Has(memberId)) return Fill(errors, KafkaError.UnknownMemberId);
            if (generationId != group.GenerationId) return Fill(errors, KafkaError.IllegalGeneration);
        }

        var records = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = producerEpoch, IsTransactional = true };
        var accepted = new List<(int Index, CommittedOffset Offset)>(offsets.Count);
        for (int i = 0; i < offsets.Count; i++)
        {
            var entry = offsets[i];
            errors[i] = ValidateOffset(entry, partitionExists);
            if (errors[i] != KafkaError.None) continue;
            var committed = new CommittedOffset(entry.Offset, entry.LeaderEpoch, entry.Metadata ?? "", now);
            records.Add(now, OffsetsRecords.OffsetKey(group.GroupId, entry.Topic, entry.Partition), OffsetsRecords.OffsetValue(committed));
            accepted.Add((i, committed));
        }
        if (accepted.Count == 0) return errors;
        var error = Append(group, records) switch
        {
            KafkaError.None => KafkaError.None,
            KafkaError.InvalidProducerEpoch or KafkaError.ProducerFenced => KafkaError.ProducerFenced,
            KafkaError.MessageTooLarge or KafkaError.RecordListTooLarge => KafkaError.InvalidCommitOffsetSize,
            _ => KafkaError.NotCoordinator,
        };
        if (!group.PendingTransactionalOffsets.TryGetValue(producerId, out var pending))
            group.PendingTransactionalOffsets[producerId] = pending = [];
        foreach (var (index, committed) in accepted)
        {
            errors[index] = error;
            if (error == KafkaError.None) pending[(offsets[index].Topic, offsets[index].Partition)] = committed;
        }
        if (pending.Count == 0) group.PendingTransactionalOffsets.Remove(producerId);
        return errors;
    }

    /// <summary>
    /// The transaction coordinator wrote a COMMIT or ABORT marker for <paramref name="producerId"/> into
    /// <c>__consumer_offsets</c> partition of this shard: the producer's pending offsets of the groups here become
    /// committed, or are dropped.
    /// </summary>
    public void CompleteTransaction(long producerId, bool commit)
    {
        foreach (var group in _groups.Values)
        {
            if (!group.PendingTransactionalOffsets.Remove(producerId, out var pending) || !commit) continue;
            foreach (var (key, offset) in pending) group.Offsets[key] = offset;
        }
    }

    /// <summary>Whether a transaction still holds an offset of this partition for the group (OffsetFetch with RequireStable).</summary>
    private static bool HasPendingOffset(ClassicGroup group, string topic, int partition)
    {
        foreach (var pending in group.PendingTransactionalOffsets.Values)
            if (pending.ContainsKey((topic, partition))) return true;
        return false;
    }
}
