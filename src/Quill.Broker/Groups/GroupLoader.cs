using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Groups;

/// <summary>
/// Rebuilds the groups and committed offsets of one <c>__consumer_offsets</c> partition when its shard loads: replays
/// the partition in order, the latest record per key wins, a tombstone (null value) deletes. A group with members comes back
/// Stable with its generation and assignments, its members' sessions restarted from now, so consumers that
/// outlive a broker restart carry on without a rebalance; a group without members comes back Empty. Offsets written
/// inside a transaction count from its COMMIT marker on, are dropped at an ABORT marker, and are pending while the
/// transaction has no marker yet.
/// </summary>
internal static class GroupLoader
{
    private sealed class Replayed
    {
        public StoredGroup? Group;
        public readonly Dictionary<(string, int), CommittedOffset> Offsets = [];
    }

    /// <param name="getOrCreate">The shard's group of an id, made if new.</param>
    public static (int Groups, int Offsets) Load(IOffsetsLog log, int partition, Func<string, long, ClassicGroup> getOrCreate, long now, ILogger logger)
    {
        var replayed = new Dictionary<string, Replayed>();
        // A transaction's markers go to every partition it wrote to, so each partition replays its own on its own.
        var open = new Dictionary<long, List<(OffsetsRecordKey Key, ReadOnlyMemory<byte>? Value)>>();
        foreach (var batch in log.ReadAll(partition))
        {
            if (batch.IsControl)
            {
                if (open.Remove(batch.ProducerId, out var ended) && IsCommitMarker(batch))
                    foreach (var (key, value) in ended) Apply(replayed, key, value);
                continue;
            }
            foreach (var record in batch.ReadRecords())
            {
                if (record.Key is not { } key) continue;
                try
                {
                    var parsed = OffsetsRecords.ReadKey(key);
                    if (batch.IsTransactional)
                    {
                        if (!open.TryGetValue(batch.ProducerId, out var list)) open[batch.ProducerId] = list = [];
                        list.Add((parsed, record.Value));
                    }
                    else
                    {
                        Apply(replayed, parsed, record.Value);
                    }
                }
                catch (KafkaProtocolException e)
                {
                    logger.LogWarning("Skipping unreadable record at offset {Offset} of {Topic}-{Partition}: {Message}",
                        record.Offset, OffsetsTopic.Name, partition, e.Message);
                }
            }
        }

        int offsetCount = 0, groupCount = 0;
        foreach (var (groupId, state) in replayed)
        {
            if (state.Group is null && state.Offsets.Count == 0) continue;
            var group = getOrCreate(groupId, now);
            if (state.Group is { } stored) Restore(group, stored, now);
            foreach (var (key, offset) in state.Offsets) group.Offsets[key] = offset;
            offsetCount += state.Offsets.Count;
            groupCount++;
        }
        // Transactions still open: their offsets wait for the marker the transaction coordinator will write.
        foreach (var (producerId, records) in open)
        {
            foreach (var (key, value) in records)
            {
                if (key.Kind != OffsetsRecordKind.OffsetCommit || value is not { } v) continue;
                var group = getOrCreate(key.Group, now);
                if (!group.PendingTransactionalOffsets.TryGetValue(producerId, out var pending))
                    group.PendingTransactionalOffsets[producerId] = pending = [];
                pending[(key.Topic, key.Partition)] = OffsetsRecords.ReadOffsetValue(v);
            }
        }
        return (groupCount, offsetCount);
    }

    /// <summary>A control batch's record key is int16 version + int16 type: 0 ABORT, 1 COMMIT.</summary>
    private static bool IsCommitMarker(Kafka.Protocol.Records.RecordBatch batch)
    {
        foreach (var record in batch.ReadRecords())
            return record.Key is { Length: >= 4 } key && System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(key.Span[2..]) == 1;
        return false;
    }

    private static void Apply(Dictionary<string, Replayed> replayed, OffsetsRecordKey key, ReadOnlyMemory<byte>? value)
    {
        if (key.Kind == OffsetsRecordKind.Other) return;
        if (!replayed.TryGetValue(key.Group, out var state)) replayed[key.Group] = state = new Replayed();
        if (key.Kind == OffsetsRecordKind.OffsetCommit)
        {
            if (value is { } v) state.Offsets[(key.Topic, key.Partition)] = OffsetsRecords.ReadOffsetValue(v);
            else state.Offsets.Remove((key.Topic, key.Partition));
        }
        else
        {
            state.Group = value is { } v ? OffsetsRecords.ReadGroupValue(v) : null;
        }
    }

    private static void Restore(ClassicGroup group, StoredGroup stored, long now)
    {
        group.GenerationId = stored.Generation;
        group.ProtocolType = stored.ProtocolType.Length == 0 ? null : stored.ProtocolType;
        group.ProtocolName = stored.Protocol;
        foreach (var m in stored.Members)
        {
            var member = new GroupMember(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost)
            {
                SessionTimeoutMs = m.SessionTimeoutMs,
                RebalanceTimeoutMs = m.RebalanceTimeoutMs,
                ProtocolType = stored.ProtocolType,
                Protocols = stored.Protocol is { } protocol ? [new GroupProtocol(protocol, m.Subscription)] : [],
                Assignment = m.Assignment,
                JoinedAtMs = now,
                LastHeartbeatMs = now,
            };
            group.Add(member);
        }
        group.LeaderId = stored.Leader is { } leader && group.Has(leader) ? leader : group.Members.Count > 0 ? group.Members[0].MemberId : null;
        group.TransitionTo(group.Size > 0 ? GroupState.Stable : GroupState.Empty, stored.CurrentStateTimestampMs >= 0 ? stored.CurrentStateTimestampMs : now);
        group.ProtocolType = stored.ProtocolType.Length == 0 ? null : stored.ProtocolType; // Add() set it from the first member too
    }
}
