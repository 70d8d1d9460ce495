namespace Quill.Broker.Log;

/// <summary>One appended batch of an idempotent producer, kept so a retry of it can be recognised.</summary>
public readonly record struct ProducerBatch(int FirstSeq, int LastSeq, long FirstOffset, long LastOffset, long Timestamp);

/// <summary>
/// What the log knows of one producer id (Kafka's ProducerStateEntry): its epoch and its last
/// <see cref="MaxBatches"/> batches (the client's max.in.flight.requests.per.connection limit for idempotence).
/// </summary>
public sealed class ProducerStateEntry(long producerId, short epoch)
{
    public const int MaxBatches = 5;
    public const short NoEpoch = -1;

    private readonly List<ProducerBatch> _batches = new(MaxBatches);

    public long ProducerId { get; } = producerId;
    public short Epoch { get; private set; } = epoch;
    public long LastTimestamp { get; private set; } = -1;
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

    public ProducerBatch? FindDuplicate(short epoch, int firstSeq, int lastSeq)
    {
        if (epoch != Epoch) return null;
        foreach (var b in _batches)
            if (b.FirstSeq == firstSeq && b.LastSeq == lastSeq) return b;
        return null;
    }

    public ProducerStateEntry Clone()
    {
        var copy = new ProducerStateEntry(ProducerId, Epoch) { LastTimestamp = LastTimestamp };
        copy._batches.AddRange(_batches);
        return copy;
    }

    internal void Restore(long lastTimestamp, IEnumerable<ProducerBatch> batches)
    {
        LastTimestamp = lastTimestamp;
        _batches.Clear();
        _batches.AddRange(batches.TakeLast(MaxBatches));
    }
}
