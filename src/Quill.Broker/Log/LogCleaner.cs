using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// Compaction for cleanup.policy=compact (Kafka's LogCleaner, simplified to whole passes): over all segments but
/// the active one, keep only the latest record of each key; drop a tombstone (null value) once its segment's
/// newest timestamp is older than delete.retention.ms, so consumers had that long to see the delete; drop records
/// without a key. Batches that survive whole are copied byte for byte; partly surviving ones are re-encoded with
/// their original offsets and codec (<see cref="CompactedBatchWriter"/>); empty ones disappear. Each segment is
/// rewritten beside the original as <c>*.cleaned</c>, fsynced, and swapped in under the log's lock.
/// Appends and reads continue during the pass; only the swap is exclusive.
/// <para>
/// Transactions: only segments wholly below the last stable offset are cleaned, so no record of an undecided
/// transaction is judged. Records of aborted transactions (from the aborted transaction index) never count as a
/// key's latest value, so they cannot shadow committed ones, and their batches are kept whole; control batches are
/// always kept. So nothing of a transaction is lost, but aborted data and old markers are not removed yet (Kafka
/// drops both after delete.retention.ms).
/// </para>
/// </summary>
public static class LogCleaner
{
    public readonly record struct CleanResult(int SegmentsRewritten, long RecordsRemoved, long BytesBefore, long BytesAfter);

    /// <summary>
    /// Whether a pass could change anything: a segment was rolled since the last pass, or delete.retention.ms went
    /// by (tombstones may have expired). A cheap stand-in for Kafka's min.cleanable.dirty.ratio.
    /// </summary>
    public static bool NeedsCleaning(PartitionLog log, TimeProvider time)
    {
        var config = log.Config;
        if (!config.CleanupPolicy.HasFlag(CleanupPolicy.Compact) || log.Segments.Count < 2) return false;
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return log.ActiveSegment.BaseOffset != log.LastCleanedBase || now - log.LastCleanMs > config.DeleteRetentionMs;
    }

    public static CleanResult Clean(PartitionLog log, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var config = log.Config;
        if (!config.CleanupPolicy.HasFlag(CleanupPolicy.Compact)) return default;
        var segments = log.CleanableSegments();
        if (segments.Length == 0) return default;
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        log.LastCleanedBase = log.ActiveSegment.BaseOffset;
        log.LastCleanMs = now;

        var aborted = log.CollectAbortedTxns(segments[0].BaseOffset, segments[^1].NextOffset)
            .ToLookup(t => t.ProducerId);
        bool IsAborted(RecordBatch batch) => batch.IsTransactional
            && aborted[batch.ProducerId].Any(t => t.FirstOffset <= batch.BaseOffset && batch.BaseOffset <= t.LastOffset);

        // Pass 1: the latest offset of every key in the cleanable range, aborted records aside.
        var latest = new Dictionary<byte[], long>(ByteArrayComparer.Instance);
        foreach (var segment in segments)
            foreach (var batch in Batches(segment))
                if (!batch.IsControl && !IsAborted(batch))
                    foreach (var record in batch.ReadRecords())
                        if (record.Key is { } key) latest[key.ToArray()] = record.Offset;

        // Pass 2: rewrite each segment with what survives.
        int rewritten = 0;
        long removed = 0, before = 0, after = 0;
        foreach (var segment in segments)
        {
            bool dropTombstones = now - segment.LargestTimestamp > config.DeleteRetentionMs;
            var output = new List<byte[]>();
            bool changed = false;
            long segmentRemoved = 0;
            foreach (var batch in Batches(segment))
            {
                if (batch.IsControl || IsAborted(batch)) { output.Add(batch.Bytes.ToArray()); continue; }
                var records = batch.ReadRecords();
                var kept = records.Where(r => r.Key is { } key
                    && latest.TryGetValue(key.ToArray(), out long newest) && newest == r.Offset
                    && !(r.Value is null && dropTombstones)).ToList();
                segmentRemoved += records.Count - kept.Count;
                if (kept.Count == records.Count) output.Add(batch.Bytes.ToArray());
                else
                {
                    changed = true;
                    if (kept.Count > 0) output.Add(CompactedBatchWriter.Write(batch, kept));
                }
            }
            if (!changed) continue;
            var cleaned = WriteCleanedSegment(segment, output, config, now);
            long oldSize = segment.Size;
            if (log.ReplaceSegment(segment, cleaned))
            {
                rewritten++;
                removed += segmentRemoved;
                before += oldSize;
                after += cleaned.Size;
            }
        }
        return new CleanResult(rewritten, removed, before, after);
    }

    private static LogSegment WriteCleanedSegment(LogSegment original, List<byte[]> batches, LogConfig config, long now)
    {
        var cleaned = new LogSegment(original.Dir, original.BaseOffset, config, now, LogFileNames.CleanedSuffix);
        if (batches.Count > 0)
        {
            var headers = batches.Select(b => BatchHeader.Parse(b)).ToArray();
            cleaned.Append(headers, batches.Select(b => (ReadOnlyMemory<byte>)b).ToList(), batches.Sum(b => b.Length));
        }
        foreach (var txn in original.TxnIndex.Entries) cleaned.TxnIndex.Append(txn); // every marker and aborted batch is kept
        cleaned.OnBecomeInactive();
        cleaned.Flush();
        return cleaned;
    }

    /// <summary>The batches of a (non-active, so unchanging) segment, read one at a time.</summary>
    private static IEnumerable<RecordBatch> Batches(LogSegment segment)
    {
        int size = segment.Size, position = 0;
        while (segment.ReadHeader(position, size) is { } header)
        {
            yield return RecordBatch.Read(segment.ReadBatch(position, header));
            position += header.SizeInBytes;
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
