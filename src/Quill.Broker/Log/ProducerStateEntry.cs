namespace Quill.Broker.Log;

/// <summary>One appended batch of an idempotent producer, kept so a retry of it can be recognised.</summary>
public readonly record struct ProducerBatch(int FirstSeq, int LastSeq, long FirstOffset, long LastOffset, long Timestamp);

/// <summary>
/// What the log knows of one producer id (Kafka's ProducerStateEntry): its epoch, its last
/// <see cref="MaxBatches"/> batches (the client's max.in.flight.requests.per.connection limit for idempotence),
/// and for a transactional producer the first offset of its transaction in progress in this partition and the
/// epoch of the coordinator that last ended one.
/// </summary>
public sealed class ProducerStateEntry(long producerId, short epoch)
{
    public const int MaxBatches = 5;
    public const short NoEpoch = -1;

    private readonly List<ProducerBatch> _batches = new(MaxBatches);

    public long ProducerId { get; } = producerId;
    public short Epoch { get; private set; } = epoch;
    public long LastTimestamp { get; private set; } = -1;
    /// <summary>Where this producer's ongoing transaction in the partition begins; -1 if none is ongoing.</summary>
    public long CurrentTxnFirstOffset { get; internal set; } = -1;
    /// <summary>The coordinator epoch of the last marker written for this producer; -1 before any.</summary>
    public int CoordinatorEpoch { get; private set; } = -1;
    public IReadOnlyList<ProducerBatch> Batches => _batches;
    public int LastSeq => _batches.Count == 0 ? -1 : _batches[^1].LastSeq;
    public long LastOffset => _batches.Count == 0 ? -1 : _batches[^1].LastOffset;

    /// <summary>Records a batch; a new epoch forgets the old epoch's batches.</summary>
    public void Add(short epoch, ProducerBatch batch)
    {
        if (epoch != Epoch)
        {
            Epoch = epoch;
            _batches.Clear();
        }
        if (_batches.Count == MaxBatches) _batches.RemoveAt(0);
        _batches.Add(batch);
        LastTimestamp = Math.Max(LastTimestamp, batch.Timestamp);
    }

    /// <summary>
    /// A COMMIT or ABORT marker: the transaction ends, and the marker's epoch becomes the producer's (the
    /// coordinator bumps it when it fences a producer, which forgets the old epoch's batches).
    /// </summary>
    public void EndTxn(short epoch, int coordinatorEpoch, long timestamp)
    {
        if (epoch != Epoch)
        {
            Epoch = epoch;
            _batches.Clear();
        }
        CurrentTxnFirstOffset = -1;
        CoordinatorEpoch = coordinatorEpoch;
        LastTimestamp = Math.Max(LastTimestamp, timestamp);
    }

    public ProducerBatch? FindDuplicate(short epoch, int firstSeq, int lastSeq)
    {
        if (epoch != Epoch) return null;
        foreach (var b in _batches)
            if (b.FirstSeq == firstSeq && b.LastSeq == lastSeq) return b;
        return null;
    }

    public ProducerStateEntry Clone()
    {
        var copy = new ProducerStateEntry(ProducerId, Epoch)
        {
            LastTimestamp = LastTimestamp,
            CurrentTxnFirstOffset = CurrentTxnFirstOffset,
            CoordinatorEpoch = CoordinatorEpoch,
        };
        copy._batches.AddRange(_batches);
        return copy;
    }

    internal void Restore(long lastTimestamp, int coordinatorEpoch, long currentTxnFirstOffset, IEnumerable<ProducerBatch> batches)
    {
        LastTimestamp = lastTimestamp;
        CoordinatorEpoch = coordinatorEpoch;
        CurrentTxnFirstOffset = currentTxnFirstOffset;
        _batches.Clear();
        _batches.AddRange(batches.TakeLast(MaxBatches));
    }
}
