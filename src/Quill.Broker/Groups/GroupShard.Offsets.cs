using System.Text;
using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Groups;

// OffsetCommit, OffsetFetch and offset retention.
internal sealed partial class GroupShard
{
    /// <summary>
    /// OffsetCommit: one error per entry, in order. Members of a group commit with their generation and member
    /// id; a consumer outside group management commits with generation -1 to an empty (or new) group.
    /// <paramref name="partitionExists"/> (when given) refuses unknown partitions with UNKNOWN_TOPIC_OR_PARTITION.
    /// The answer comes once the commit is replicated (Kafka's offsets.commit.required.acks -1), and only then does the
    /// group serve the new offsets, so a fetch never returns an offset a new coordinator would not have.
    /// </summary>
    public Task<KafkaError[]> CommitOffsets(string groupId, string memberId, string? groupInstanceId, int generationId,
        IReadOnlyList<OffsetCommitEntry> offsets, Func<string, int, bool>? partitionExists = null)
    {
        var errors = new KafkaError[offsets.Count];
        if (NotActiveError() is { } notActive) return Answer(errors, notActive);

        long now = NowMs;
        var group = FindGroup(groupId);
        if (group is null)
        {
            // No group: fine for a consumer managing its own partitions; a generation means a group we lost.
            if (generationId >= 0) return Answer(errors, KafkaError.IllegalGeneration);
            group = GetOrCreateGroup(groupId, now);
        }

        if (group.Is(GroupState.Dead)) return Answer(errors, KafkaError.CoordinatorNotAvailable);
        if (group.IsStaticMemberFenced(groupInstanceId, memberId)) return Answer(errors, KafkaError.FencedInstanceId);
        if (generationId < 0 && group.Is(GroupState.Empty)) return StoreOffsets(group, offsets, errors, now, partitionExists);
        if (!group.Has(memberId)) return Answer(errors, KafkaError.UnknownMemberId);
        if (generationId != group.GenerationId) return Answer(errors, KafkaError.IllegalGeneration);
        switch (group.State)
        {
            case GroupState.Stable:
            case GroupState.PreparingRebalance:
                // During a rebalance a member may still commit what it consumed; its heartbeat tells it to rejoin.
                group.Get(memberId).LastHeartbeatMs = now;
                return StoreOffsets(group, offsets, errors, now, partitionExists);
            case GroupState.CompletingRebalance:
                return Answer(errors, KafkaError.RebalanceInProgress);
            default:
                return Answer(errors, KafkaError.UnknownMemberId);
        }
    }

    private static KafkaError[] Fill(KafkaError[] errors, KafkaError error)
    {
        Array.Fill(errors, error);
        return errors;
    }

    private static Task<KafkaError[]> Answer(KafkaError[] errors, KafkaError error) => Task.FromResult(Fill(errors, error));

    private Task<KafkaError[]> StoreOffsets(ClassicGroup group, IReadOnlyList<OffsetCommitEntry> offsets, KafkaError[] errors, long now,
        Func<string, int, bool>? partitionExists)
    {
        var records = new RecordBatchBuilder();
        var accepted = new List<(int Index, CommittedOffset Offset)>(offsets.Count);
        for (int i = 0; i < offsets.Count; i++)
        {
            var entry = offsets[i];
            errors[i] = ValidateOffset(entry, partitionExists);
            if (errors[i] != KafkaError.None) continue;
            var committed = new CommittedOffset(entry.Offset, entry.LeaderEpoch, entry.Metadata ?? "",
                entry.CommitTimestampMs >= 0 ? entry.CommitTimestampMs : now, entry.RetentionTimeMs >= 0 ? now + entry.RetentionTimeMs : -1);
            records.Add(now, OffsetsRecords.OffsetKey(group.GroupId, entry.Topic, entry.Partition), OffsetsRecords.OffsetValue(committed));
            accepted.Add((i, committed));
        }
        if (accepted.Count == 0) return Task.FromResult(errors);

        var error = Append(group, records) switch
        {
            KafkaError.None => KafkaError.None,
            KafkaError.MessageTooLarge or KafkaError.RecordListTooLarge or KafkaError.InvalidFetchSize => KafkaError.InvalidCommitOffsetSize,
            _ => KafkaError.NotCoordinator,
        };
        if (error != KafkaError.None)
        {
            foreach (var (index, _) in accepted) errors[index] = error;
            return Task.FromResult(errors);
        }

        long sequence = ++_commitSequence;
        var replicated = _log.WhenReplicatedAsync(Partition);
        if (replicated.IsCompletedSuccessfully)
        {
            ApplyCommit(group, offsets, accepted, errors, sequence, replicated.Result);
            return Task.FromResult(errors);
        }
        var answered = new TaskCompletionSource<KafkaError[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        replicated.ContinueWith(t =>
        {
            var outcome = t.IsCompletedSuccessfully ? t.Result : KafkaError.NotLeaderOrFollower;
            if (!Loop.Post(() => answered.TrySetResult(ApplyCommit(group, offsets, accepted, errors, sequence, outcome))))
                answered.TrySetResult(Fill(errors, KafkaError.NotCoordinator)); // the shard is shutting down
        }, TaskScheduler.Default);
        return answered.Task;
    }

    /// <summary>
    /// The commit's replication ended with <paramref name="replicated"/> (on the loop): on success its offsets become
    /// the group's, unless a later commit of the same partition got there first; the answer per entry either way.
    /// </summary>
    private KafkaError[] ApplyCommit(ClassicGroup group, IReadOnlyList<OffsetCommitEntry> offsets, List<(int Index, CommittedOffset Offset)> accepted,
        KafkaError[] errors, long sequence, KafkaError replicated)
    {
        var error = GroupCoordinator.CoordinatorErrorOf(replicated);
        // After an unload the group is reloaded from the log (which has the commit if it survived): nothing to apply.
        bool apply = error == KafkaError.None && NotActiveError() is null && IsCurrent(group);
        foreach (var (index, committed) in accepted)
        {
            errors[index] = error;
            if (!apply) continue;
            var key = (offsets[index].Topic, offsets[index].Partition);
            if (group.AppliedCommits.TryGetValue(key, out long applied) && applied > sequence) continue;
            group.AppliedCommits[key] = sequence;
            group.Offsets[key] = committed;
        }
        return errors;
    }

    /// <summary>
    /// The error an entry of OffsetCommit or TxnOffsetCommit is refused with, or None: a partition
    /// <paramref name="partitionExists"/> (when given) does not know is UNKNOWN_TOPIC_OR_PARTITION, metadata over
    /// offset.metadata.max.bytes is OFFSET_METADATA_TOO_LARGE.
    /// </summary>
    private KafkaError ValidateOffset(OffsetCommitEntry entry, Func<string, int, bool>? partitionExists)
    {
        if (partitionExists is not null && !partitionExists(entry.Topic, entry.Partition)) return KafkaError.UnknownTopicOrPartition;
        if (Encoding.UTF8.GetByteCount(entry.Metadata ?? "") > Options.OffsetMetadataMaxBytes) return KafkaError.OffsetMetadataTooLarge;
        return KafkaError.None;
    }

    /// <summary>
    /// OffsetFetch for one group: the committed offset of each partition asked for (offset -1 and empty metadata
    /// when none), or of every committed partition when <paramref name="topics"/> is null. With
    /// <paramref name="requireStable"/> (read_committed consumers), a partition whose offset an open transaction is
    /// committing answers UNSTABLE_OFFSET_COMMIT, which the client retries.
    /// </summary>
    public OffsetFetchResult FetchOffsets(string groupId, IReadOnlyList<TopicPartitions>? topics, bool requireStable = false)
    {
        if (NotActiveError() is { } notActive) return new OffsetFetchResult(notActive, []);
        var result = new List<FetchedOffset>();
        var group = FindGroup(groupId);
        if (group is null)
        {
            AddUncommitted(result, topics);
            return new OffsetFetchResult(KafkaError.None, result);
        }
        if (group.Is(GroupState.Dead))
        {
            AddUncommitted(result, topics);
            return new OffsetFetchResult(KafkaError.None, result);
        }
        if (topics is null)
        {
            foreach (var ((topic, partition), offset) in group.Offsets.OrderBy(e => e.Key.Topic, StringComparer.Ordinal).ThenBy(e => e.Key.Partition))
                result.Add(new FetchedOffset(topic, partition, offset.Offset, offset.LeaderEpoch, offset.Metadata, KafkaError.None));
            return new OffsetFetchResult(KafkaError.None, result);
        }
        foreach (var t in topics)
        {
            foreach (int partition in t.Partitions)
            {
                if (requireStable && HasPendingOffset(group, t.Topic, partition))
                {
                    result.Add(new FetchedOffset(t.Topic, partition, -1, -1, "", KafkaError.UnstableOffsetCommit));
                    continue;
                }
                result.Add(group.Offsets.TryGetValue((t.Topic, partition), out var offset)
                    ? new FetchedOffset(t.Topic, partition, offset.Offset, offset.LeaderEpoch, offset.Metadata, KafkaError.None)
                    : new FetchedOffset(t.Topic, partition, -1, -1, "", KafkaError.None));
            }
        }
        return new OffsetFetchResult(KafkaError.None, result);
    }

    private static void AddUncommitted(List<FetchedOffset> result, IReadOnlyList<TopicPartitions>? topics)
    {
        if (topics is null) return;
        foreach (var t in topics)
            foreach (int partition in t.Partitions)
                result.Add(new FetchedOffset(t.Topic, partition, -1, -1, "", KafkaError.None));
    }

    /// <summary>
    /// Offset retention (offsets.retention.minutes), as Kafka 2.1+ does it: a group's offsets expire once the
    /// group has been empty that long; an offsets-only group's offsets expire that long after their commit (or at
    /// the expire time a v2-4 commit asked for). An empty group left without offsets is deleted. Expired entries
    /// become tombstones in the log.
    /// </summary>
    private void ExpireOffsets(long now)
    {
        foreach (var group in _groups.Values.ToList())
        {
            if (group.Is(GroupState.Dead) || !group.Is(GroupState.Empty)) continue;
            var expired = new List<(string Topic, int Partition)>();
            foreach (var (key, offset) in group.Offsets)
            {
                long baseTimestamp = group.ProtocolType is null ? offset.CommitTimestampMs : group.CurrentStateTimestampMs;
                long expiresAt = offset.ExpireTimestampMs >= 0 ? offset.ExpireTimestampMs : baseTimestamp + Options.OffsetsRetentionMs;
                if (expiresAt <= now) expired.Add(key);
            }
            bool deleteGroup = group.Offsets.Count == expired.Count && group.Size == 0 && group.PendingMembers.Count == 0
                               && group.PendingTransactionalOffsets.Count == 0;
            if (expired.Count == 0 && !deleteGroup) continue;

            var tombstones = new RecordBatchBuilder();
            foreach (var (topic, partition) in expired) tombstones.Add(now, OffsetsRecords.OffsetKey(group.GroupId, topic, partition), null);
            if (deleteGroup) tombstones.Add(now, OffsetsRecords.GroupKey(group.GroupId), null);
            if (Append(group, tombstones) != KafkaError.None) continue;
            foreach (var key in expired) group.Offsets.Remove(key);
            if (deleteGroup) RemoveGroup(group, now);
            _logger.LogInformation("Expired {Count} offsets of group {Group}{Deleted}", expired.Count, LogSafe.Text(group.GroupId), deleteGroup ? "; the group is gone" : "");
        }
    }
}
