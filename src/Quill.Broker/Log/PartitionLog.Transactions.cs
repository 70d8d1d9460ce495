using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

/// <summary>
/// The log side of transactions (KIP-98): markers, the last stable offset, and the aborted transaction index.
/// </summary>
public sealed partial class PartitionLog
{
    private long _lastStableOffset;

    /// <summary>
    /// The first offset of the oldest ongoing transaction, else the high watermark: read_committed consumers read
    /// only below it. Never above <see cref="HighWatermark"/>. Lock-free.
    /// </summary>
    public long LastStableOffset => Volatile.Read(ref _lastStableOffset);

    /// <summary>Raised (outside the lock) after a marker is written, so waiting fetches see the stable offset move.</summary>
    internal event Action? ControlMarkerAppended;

    /// <summary>Recomputes the last stable offset after the log end or the ongoing transactions changed. Under the lock, after <c>_end</c> is published.</summary>
    private void PublishLastStableOffsetLocked()
    {
        long end = _end.Offset, firstUnstable = _producers.FirstUnstableOffset;
        long hw = _highWatermarkFollowsEnd ? end : Math.Min(Volatile.Read(ref _highWatermark), end);
        Volatile.Write(ref _highWatermark, hw);
        Volatile.Write(ref _lastStableOffset, firstUnstable >= 0 ? Math.Min(firstUnstable, hw) : hw);
    }

    /// <summary>
    /// Writes a transaction marker (the coordinator's COMMIT or ABORT, see <see cref="ControlMarker"/>) for
    /// <paramref name="producerId"/> and returns its offset. It ends that producer's ongoing transaction here; an
    /// ABORT is recorded in the aborted transaction index. A marker for a producer with no ongoing transaction is
    /// still written (as in Kafka) and completes nothing. Refused with InvalidProducerEpoch if its epoch is older
    /// than the producer's, or TransactionCoordinatorFenced if its coordinator epoch is older than the last marker's.
    /// </summary>
    public long AppendControlMarker(long producerId, short producerEpoch, bool commit, int coordinatorEpoch, int leaderEpoch = 0)
    {
        long offset;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _producers.ValidateMarker(producerId, producerEpoch, coordinatorEpoch);
            var config = Config;
            long now = NowMs;
            offset = _end.Offset;
            byte[] batch = ControlMarker.Build(offset, producerId, producerEpoch, commit, coordinatorEpoch, leaderEpoch, now);
            var header = BatchHeader.Parse(batch);
            var segment = ActiveSegment;
            try
            {
                if (segment.ShouldRoll(config, batch.Length, offset, now)) segment = RollLocked(now);
                segment.Append([header], [batch], batch.Length);
            }
            catch (IOException e)
            {
                throw new LogException(KafkaError.KafkaStorageError, $"marker append to {segment.LogPath} failed: {e.Message}");
            }
            var completed = _producers.CompleteTxn(producerId, producerEpoch, coordinatorEpoch, offset, now);
            IOException? indexFailure = null;
            try
            {
                // The index entry is in place before the stable offset passes the transaction's first offset.
                if (!commit && completed.FirstOffset >= 0)
                    segment.TxnIndex.Append(new AbortedTxn(producerId, completed.FirstOffset, offset, completed.LastStableOffset));
            }
            catch (IOException e)
            {
                indexFailure = e; // the marker is in the log: publish it anyway, so offsets stay consistent
            }
            _end = new LogOffsetMetadata(offset + 1, segment.BaseOffset, segment.Size);
            PublishLastStableOffsetLocked();
            if (indexFailure is not null)
                throw new LogException(KafkaError.KafkaStorageError, $"aborted transaction index {segment.TxnIndex.Path}: {indexFailure.Message}");
            if (offset + 1 - _recoveryPoint >= config.FlushMessages) FlushLocked();
        }
        ControlMarkerAppended?.Invoke();
        return offset;
    }

    /// <summary>
    /// The aborted transactions (producer id, first offset) whose range [first, last marker] intersects
    /// [<paramref name="startOffset"/>, <paramref name="upperBoundOffset"/>): what a read_committed fetch of that
    /// range reports so the consumer can drop their records. Lock-free.
    /// </summary>
    public IReadOnlyList<(long ProducerId, long FirstOffset)> CollectAbortedTransactions(long startOffset, long upperBoundOffset)
    {
        List<(long, long)>? result = null;
        Collect(startOffset, upperBoundOffset, txn => (result ??= []).Add((txn.ProducerId, txn.FirstOffset)));
        return (IReadOnlyList<(long, long)>?)result ?? [];
    }

    /// <summary>As <see cref="CollectAbortedTransactions"/>, with the whole index entries.</summary>
    internal List<AbortedTxn> CollectAbortedTxns(long startOffset, long upperBoundOffset)
    {
        var result = new List<AbortedTxn>();
        Collect(startOffset, upperBoundOffset, result.Add);
        return result;
    }

    private void Collect(long startOffset, long upperBoundOffset, Action<AbortedTxn> found)
    {
        if (upperBoundOffset <= startOffset) return;
        var segments = _segments;
        // An entry lives in the segment of its marker, so segments ending before startOffset hold none that reach it.
        for (int i = FloorIndex(segments, startOffset); i < segments.Length; i++)
        {
            foreach (var txn in segments[i].TxnIndex.Entries)
            {
                if (txn.LastOffset >= startOffset && txn.FirstOffset < upperBoundOffset) found(txn);
                // Every later transaction began at or after this one's stable offset: none can start below the bound.
                if (txn.LastStableOffset >= upperBoundOffset) return;
            }
        }
    }
}
