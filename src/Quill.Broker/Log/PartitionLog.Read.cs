using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

public sealed partial class PartitionLog
{
    /// <summary>ListOffsets' special timestamps.</summary>
    public const long EarliestTimestamp = -2, LatestTimestamp = -1, MaxTimestampQuery = -3;

    /// <summary>
    /// Fetch: whole batches starting with the one that contains <paramref name="offset"/>, at most
    /// <paramref name="maxBytes"/> (but always at least one whole batch), none at or past <paramref name="maxOffset"/>
    /// (the high watermark; pass <c>long.MaxValue</c> for the log end). The range may span only part of one
    /// segment, as in Kafka; the consumer simply fetches again. OffsetOutOfRange outside [log start, log end].
    /// </summary>
    public LogReadResult Read(long offset, int maxBytes, long maxOffset = long.MaxValue)
    {
        var end = _end; // captured first: the segment array and file sizes read below are at least this new
        var segments = _segments;
        long logStart = LogStartOffset;
        if (offset < logStart || offset > end.Offset)
            throw new LogException(KafkaError.OffsetOutOfRange, $"offset {offset} is outside [{logStart}, {end.Offset}] of {Topic}-{Partition}");
        long limitOffset = Math.Min(maxOffset, end.Offset);
        var result = new LogReadResult(FileRecords.Empty, Math.Min(maxOffset, end.Offset), logStart, end.Offset);
        if (offset >= limitOffset) return result;

        for (int i = FloorIndex(segments, offset); i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.BaseOffset >= limitOffset) break;
            int maxPosition = MaxPosition(segments, segment, end, limitOffset);
            if (segment.Read(Math.Max(offset, segment.BaseOffset), maxBytes, maxPosition) is { } records)
                return result with { Records = records };
        }
        return result;
    }

    /// <summary>Where reading <paramref name="segment"/> must stop so that no offset at or past <paramref name="limitOffset"/> is returned.</summary>
    private static int MaxPosition(LogSegment[] segments, LogSegment segment, LogOffsetMetadata end, long limitOffset)
    {
        if (limitOffset == end.Offset)
            return segment.BaseOffset == end.SegmentBaseOffset ? end.Position : segment.Size;
        var limitSegment = segments[FloorIndex(segments, limitOffset)];
        if (segment.BaseOffset < limitSegment.BaseOffset) return segment.Size;
        int size = segment.BaseOffset == end.SegmentBaseOffset ? end.Position : segment.Size;
        return segment.TranslateOffset(limitOffset, size) is var (position, _) ? position : size;
    }

    /// <summary>The index of the last segment whose base offset is at most <paramref name="offset"/> (0 if none is).</summary>
    private static int FloorIndex(LogSegment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (segments[mid].BaseOffset <= offset) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>
    /// ListOffsets: -2 the log start offset, -1 the log end offset, -3 the batch holding the largest timestamp,
    /// otherwise the first record whose timestamp is at least <paramref name="timestamp"/> (null if none is).
    /// Offsets and timestamps are as Kafka answers them, with -1 timestamps for earliest and latest.
    /// </summary>
    public TimestampAndOffset? FetchOffsetByTimestamp(long timestamp)
    {
        var segments = _segments;
        long logStart = LogStartOffset;
        switch (timestamp)
        {
            case EarliestTimestamp: return new TimestampAndOffset(-1, logStart);
            case LatestTimestamp: return new TimestampAndOffset(-1, LogEndOffset);
            case MaxTimestampQuery:
                TimestampAndOffset? best = null;
                foreach (var s in segments)
                    if (s.MaxTimestampSoFar >= 0 && (best is null || s.MaxTimestampSoFar > best.Value.Timestamp))
                        best = new TimestampAndOffset(s.MaxTimestampSoFar, s.OffsetOfMaxTimestampSoFar);
                return best;
        }
        foreach (var segment in segments)
        {
            if (segment.MaxTimestampSoFar < timestamp || segment.NextOffset <= logStart) continue;
            if (segment.FindOffsetByTimestamp(timestamp, Math.Max(logStart, segment.BaseOffset)) is var (ts, offset))
                return new TimestampAndOffset(ts, offset);
        }
        return null;
    }
}
