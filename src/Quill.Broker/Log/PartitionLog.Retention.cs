using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

public sealed partial class PartitionLog
{
    /// <summary>
    /// Retention, as Kafka's deleteOldSegments: drops the oldest segments that are wholly below the log start
    /// offset, and for cleanup.policy=delete also those whose newest timestamp is older than retention.ms and
    /// those beyond retention.bytes. Only a prefix of the log is deleted. The active segment is never deleted:
    /// if it too has expired it is first rolled (when non-empty), as Kafka does, and an empty active segment
    /// always stays. Nothing at or above the high watermark is deleted (as Kafka): records not yet on every in-sync
    /// replica stay until they are, so retention on a leader cannot delete what a follower still has to copy.
    /// Returns the number of segments deleted.
    /// </summary>
    public int DeleteOldSegments()
    {
        lock (_lock)
        {
            if (_disposed) return 0;
            long now = NowMs;
            var config = Config;
            var segments = _segments;
            long logStart = LogStartOffset;
            long highWatermark = HighWatermark;
            long sizeToShed = config.RetentionBytes >= 0 ? segments.Sum(s => (long)s.Size) - config.RetentionBytes : -1;
            bool deleteByTimeAndSize = config.CleanupPolicy.HasFlag(CleanupPolicy.Delete);

            int count = 0;
            for (; count < segments.Length; count++)
            {
                var segment = segments[count];
                bool isLast = count == segments.Length - 1;
                if (isLast && segment.Size == 0) break;
                long upperBound = isLast ? _end.Offset : segments[count + 1].BaseOffset;
                if (upperBound > highWatermark) break;
                bool belowStart = upperBound <= logStart;
                bool expired = deleteByTimeAndSize && config.RetentionMs >= 0 && now - segment.LargestTimestamp > config.RetentionMs;
                bool overSize = deleteByTimeAndSize && sizeToShed >= segment.Size;
                if (!(belowStart || expired || overSize)) break;
                if (overSize) sizeToShed -= segment.Size;
            }
            if (count == 0) return 0;
            if (count == segments.Length) RollLocked(now);
            DeleteSegmentsLocked(count, now);
            return count;
        }
    }

    /// <summary>Removes the first <paramref name="count"/> segments (never the active one) and moves the log start up.</summary>
    private void DeleteSegmentsLocked(int count, long now)
    {
        var segments = _segments;
        count = Math.Min(count, segments.Length - 1);
        if (count <= 0) return;
        _segments = segments[count..];
        long newStart = Math.Max(LogStartOffset, _segments[0].BaseOffset);
        Volatile.Write(ref _logStartOffset, newStart);
        for (int i = 0; i < count; i++) Retire(segments[i], now, deleteFiles: true);
        _producers.TruncateHead(newStart);
        PublishLastStableOffsetLocked();
    }

    /// <summary>
    /// Takes a segment out of service: its files are unlinked now (or were already replaced), its handles closed
    /// after file.delete.delay.ms so fetches already reading it finish (Kafka renames to .deleted and waits likewise).
    /// </summary>
    private void Retire(LogSegment segment, long now, bool deleteFiles)
    {
        if (deleteFiles) segment.DeleteFiles();
        _retired.Add((segment, now + Config.FileDeleteDelayMs));
    }

    /// <summary>Closes retired segments whose delay has passed; returns how many are still waiting.</summary>
    public int CloseRetiredSegments()
    {
        lock (_lock)
        {
            long now = NowMs;
            for (int i = _retired.Count - 1; i >= 0; i--)
            {
                if (_retired[i].CloseAtMs > now) continue;
                _retired[i].Segment.Dispose();
                _retired.RemoveAt(i);
            }
            return _retired.Count;
        }
    }

    /// <summary>
    /// DeleteRecords: moves the log start offset up to <paramref name="offset"/> (reads below it then fail with
    /// OffsetOutOfRange) and deletes the segments wholly below it. Returns the new log start offset.
    /// </summary>
    public long DeleteRecordsBefore(long offset)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (offset < 0 || offset > _end.Offset)
                throw new LogException(KafkaError.OffsetOutOfRange, $"cannot delete records before {offset}: the log ends at {_end.Offset}");
            if (offset <= LogStartOffset) return LogStartOffset;
            Volatile.Write(ref _logStartOffset, offset);
            var segments = _segments;
            int count = 0;
            while (count < segments.Length - 1 && segments[count + 1].BaseOffset <= offset) count++;
            if (count == segments.Length - 1 && _end.Offset <= offset && ActiveSegment.Size > 0)
            {
                RollLocked(NowMs); // everything is deleted: roll so the old active segment can go too
                count++;
            }
            DeleteSegmentsLocked(count, NowMs);
            _producers.TruncateHead(offset);
            PublishLastStableOffsetLocked();
            return LogStartOffset;
        }
    }

    /// <summary>Forgets idle producer ids (producer.id.expiration.ms).</summary>
    public void RemoveExpiredProducers()
    {
        lock (_lock)
            if (!_disposed) _producers.RemoveExpired(NowMs, Config.ProducerIdExpirationMs);
    }

    /// <summary>
    /// The segments compaction may rewrite: all but the active one, and none reaching the last stable offset (an
    /// undecided transaction's records must not be judged yet, as in Kafka). Captured, not live.
    /// </summary>
    internal LogSegment[] CleanableSegments()
    {
        long stable = LastStableOffset;
        var segments = _segments;
        int count = 0;
        while (count < segments.Length - 1 && segments[count].NextOffset <= stable) count++;
        return segments[..count];
    }

    /// <summary>
    /// Compaction's swap: replaces <paramref name="old"/> with <paramref name="cleaned"/> (same base offset, files
    /// named <c>*.cleaned</c>). Crash-safe order: unlink the old indexes, rename the log over the old one, then the
    /// indexes; a crash at any point leaves either the old or the new log, at worst without indexes, which the
    /// loader rebuilds. False (and the cleaned files deleted) if <paramref name="old"/> is no longer in the log.
    /// </summary>
    internal bool ReplaceSegment(LogSegment old, LogSegment cleaned)
    {
        lock (_lock)
        {
            var segments = _segments;
            int i = Array.IndexOf(segments, old);
            if (_disposed || i < 0 || i == segments.Length - 1)
            {
                cleaned.DeleteFiles();
                cleaned.Dispose();
                return false;
            }
            File.Delete(old.OffsetIndex.Path);
            File.Delete(old.TimeIndex.Path);
            File.Delete(old.TxnIndex.Path);
            cleaned.RenameFiles("");
            var replaced = (LogSegment[])segments.Clone();
            replaced[i] = cleaned;
            _segments = replaced;
            Retire(old, NowMs, deleteFiles: false);
            return true;
        }
    }
}
