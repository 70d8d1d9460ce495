using Microsoft.Win32.SafeHandles;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// The log side of replication: the high watermark, a follower's append of its leader's batches, truncation of a
/// divergent tail, and where a leader epoch ends (Kafka's leader-epoch lookups, answered from the batches' stamps).
/// </summary>
public sealed partial class PartitionLog
{
    private long _highWatermark;
    private bool _highWatermarkFollowsEnd = true;

    /// <summary>
    /// The offset below which every record is on every in-sync replica: consumers read only below it. While the log is
    /// its partition's only replica (the default), it is the log end; a replicated partition moves it explicitly.
    /// </summary>
    public long HighWatermark => Volatile.Read(ref _highWatermark);

    /// <summary>
    /// From now on the high watermark moves only through <see cref="UpdateHighWatermark"/> (a replicated partition),
    /// starting at <paramref name="initial"/> (clamped to the log).
    /// </summary>
    public void UseReplicatedHighWatermark(long initial)
    {
        lock (_lock)
        {
            _highWatermarkFollowsEnd = false;
            Volatile.Write(ref _highWatermark, Math.Clamp(initial, LogStartOffset, _end.Offset));
            PublishLastStableOffsetLocked();
        }
    }

    /// <summary>Moves the high watermark to <paramref name="offset"/> (clamped to the log); true if it moved up.</summary>
    public bool UpdateHighWatermark(long offset)
    {
        lock (_lock)
        {
            long hw = Math.Clamp(offset, LogStartOffset, _end.Offset);
            long old = Volatile.Read(ref _highWatermark);
            if (hw == old) return false;
            Volatile.Write(ref _highWatermark, hw);
            PublishLastStableOffsetLocked();
            return hw > old;
        }
    }

    /// <summary>
    /// A follower's append: the leader's batches (as a fetch returned them) written unchanged, offsets and leader epochs
    /// included. Batches wholly below the log end (already here) are skipped; a gap is refused. Producer state and the
    /// aborted transaction index follow the batches, so the log can lead later with the same idempotence state.
    /// Returns the number of batches appended.
    /// </summary>
    public int AppendAsFollower(ReadOnlyMemory<byte> batches)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (batches.IsEmpty) return 0;
            BatchValidator.Validate(batches, Config, _headers, AppendOrigin.Replication);
            long end = _end.Offset;
            int skip = 0, skipBytes = 0;
            while (skip < _headers.Count && _headers[skip].LastOffset < end) skipBytes += _headers[skip++].SizeInBytes;
            if (skip == _headers.Count) return 0;
            _headers.RemoveRange(0, skip);
            if (_headers[0].BaseOffset != end)
                throw new LogException(KafkaError.OffsetOutOfRange, $"replicated batch starts at {_headers[0].BaseOffset}, the log ends at {end}");
            int totalBytes = 0;
            long next = end;
            foreach (var h in _headers)
            {
                if (h.BaseOffset < next) throw new LogException(KafkaError.CorruptMessage, $"replicated batches overlap at offset {h.BaseOffset}");
                next = h.LastOffset + 1;
                totalBytes += h.SizeInBytes;
            }
            var input = batches.Slice(skipBytes, totalBytes);
            long now = NowMs;
            var segment = ActiveSegment;
            try
            {
                if (segment.ShouldRoll(Config, totalBytes, next - 1, now)) segment = RollLocked(now);
                segment.Append(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_headers), [input], totalBytes);
            }
            catch (IOException e)
            {
                throw new LogException(KafkaError.KafkaStorageError, $"replicated append to {segment.LogPath} failed: {e.Message}");
            }
            int position = 0;
            foreach (var h in _headers)
            {
                var marker = h.IsControl && h.HasProducerId ? ControlMarker.Parse(input.Slice(position, h.SizeInBytes)) : null;
                var completed = _producers.Replay(h, marker);
                if (marker is { Commit: false } && completed is { FirstOffset: >= 0 } txn)
                    segment.TxnIndex.Append(new AbortedTxn(txn.ProducerId, txn.FirstOffset, txn.LastOffset, txn.LastStableOffset));
                position += h.SizeInBytes;
            }
            _end = new LogOffsetMetadata(next, segment.BaseOffset, segment.Size);
            PublishLastStableOffsetLocked();
            if (next - _recoveryPoint >= Config.FlushMessages) FlushLocked();
            return _headers.Count;
        }
    }

    /// <summary>
    /// Cuts the log at <paramref name="offset"/> (Kafka's truncateTo): later segments go, the segment holding it is cut at
    /// that batch boundary and its indexes rebuilt, producer state is rebuilt from a snapshot at or below the cut. A
    /// follower does this before fetching from a new leader so its log never holds records the leader does not.
    /// Returns whether anything was removed. Below the log start, the log is emptied and starts at the offset.
    /// </summary>
    public bool TruncateTo(long offset)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (offset >= _end.Offset) return false;
            long now = NowMs;
            var segments = _segments;
            if (offset <= LogStartOffset)
            {
                var fresh = new LogSegment(Dir, offset, Config, now);
                _dirDirty = true;
                _segments = [fresh];
                foreach (var s in segments) Retire(s, now, deleteFiles: true);
                Volatile.Write(ref _logStartOffset, offset);
                _end = new LogOffsetMetadata(offset, offset, 0);
                _producers.LoadSnapshot(offset, offset);
            }
            else
            {
                int keep = FloorIndex(segments, offset);
                // A segment starting at the cut goes whole (unless it is the first).
                if (segments[keep].BaseOffset == offset && keep > 0) keep--;
                var cutSegment = segments[keep];
                for (int i = keep + 1; i < segments.Length; i++) Retire(segments[i], now, deleteFiles: true);
                int position = cutSegment.TranslateOffset(offset, cutSegment.Size)?.Position ?? cutSegment.Size;
                RandomAccess.SetLength(cutSegment.Handle, position);
                cutSegment.Recover();
                cutSegment.TxnIndex.Clear();
                _segments = segments[..(keep + 1)];
                _end = new LogOffsetMetadata(cutSegment.NextOffset, cutSegment.BaseOffset, cutSegment.Size);
                long replayFrom = _producers.LoadSnapshot(LogStartOffset, _end.Offset, cutSegment.BaseOffset);
                LogLoader.ReplayProducerState(_producers, _segments, replayFrom, new HashSet<LogSegment> { cutSegment });
            }
            _producers.CommitPending(_end.Offset);
            Volatile.Write(ref _recoveryPoint, Math.Min(_recoveryPoint, _end.Offset));
            Volatile.Write(ref _highWatermark, Math.Min(Volatile.Read(ref _highWatermark), _end.Offset));
            PublishLastStableOffsetLocked();
            return true;
        }
    }

    /// <summary>The leader epoch of the last batch in the log, or -1 if the log is empty.</summary>
    public int LastLeaderEpoch()
    {
        long end = LogEndOffset;
        if (end <= LogStartOffset) return -1;
        return BatchHeaderAt(end - 1)?.PartitionLeaderEpoch ?? -1;
    }

    /// <summary>
    /// Where <paramref name="epoch"/> ends in this log (Kafka's leader-epoch cache lookup, KIP-101/279): the base offset of
    /// the first batch stamped with a later epoch (the log end if none is), with the latest epoch at or below the asked
    /// one that has batches (the asked one if none has). Binary search: epochs only grow along a log.
    /// </summary>
    public (int Epoch, long EndOffset) EndOffsetForEpoch(int epoch)
    {
        long lo = LogStartOffset, hi = LogEndOffset; // batches before lo are at most the epoch; the one at hi is later
        while (lo < hi)
        {
            long mid = lo + (hi - lo) / 2;
            if (BatchHeaderAt(mid) is not { } batch) { hi = mid; continue; }
            if (batch.PartitionLeaderEpoch > epoch) hi = Math.Max(lo, batch.BaseOffset);
            else lo = Math.Min(hi, batch.LastOffset + 1);
        }
        int floor = hi > LogStartOffset && BatchHeaderAt(hi - 1) is { } last && last.PartitionLeaderEpoch <= epoch
            ? last.PartitionLeaderEpoch : epoch;
        return (floor, hi);
    }

    /// <summary>The header of the batch holding <paramref name="offset"/> (or the first after it), or null past the end.</summary>
    private BatchHeader? BatchHeaderAt(long offset)
    {
        var records = Read(offset, 1).Records;
        if (records.Length < BatchHeader.Size || records.Handle is not SafeFileHandle handle) return null;
        Span<byte> header = stackalloc byte[BatchHeader.Size];
        if (RandomAccess.Read(handle, header, records.Position) < BatchHeader.Size) return null;
        return BatchHeader.Parse(header);
    }
}
