using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

/// <summary>
/// Idempotent producer state of one partition (Kafka's ProducerStateManager): per producer id the epoch and
/// the last five batches, checked on every append so a retried batch is answered with its original offsets
/// instead of being written twice. Sequence rules follow Kafka's ProducerAppendInfo:
/// <list type="bullet">
/// <item>an epoch older than the known one: InvalidProducerEpoch;</item>
/// <item>a newer epoch must start at sequence 0, else OutOfOrderSequenceNumber;</item>
/// <item>same epoch: the first sequence must follow the last one (wrapping at int.MaxValue), else OutOfOrderSequenceNumber;</item>
/// <item>a producer id with no state (new, or its batches were deleted by retention/DeleteRecords) is accepted at any
/// sequence, as Kafka does since 2.5 (KIP-360), instead of the older UnknownProducerId answer.</item>
/// </list>
/// State is saved in <c>{offset}.snapshot</c> files (see <see cref="ProducerStateSnapshot"/>) and rebuilt on load
/// from the newest snapshot plus the batches after it. Used only under the log's lock.
/// </summary>
public sealed class ProducerStateManager
{
    private readonly Dictionary<long, ProducerStateEntry> _producers = [];
    private readonly Dictionary<long, ProducerStateEntry> _pending = [];

    public ProducerStateManager(string dir) => Dir = dir;

    public string Dir { get; }
    /// <summary>The offset after the last batch applied: where a replay from the log continues.</summary>
    public long MapEndOffset { get; private set; }
    public int Count => _producers.Count;
    public IReadOnlyDictionary<long, ProducerStateEntry> Producers => _producers;

    public ProducerStateEntry? Get(long producerId) => _producers.GetValueOrDefault(producerId);

    /// <summary>
    /// Validates one client batch (in append order, with its assigned offsets) against the state plus the
    /// batches before it in the same append. Returns the original batch if it is a retried duplicate.
    /// Throws <see cref="LogException"/> on a sequence or epoch error. Nothing is applied until <see cref="CommitPending"/>.
    /// </summary>
    public ProducerBatch? CheckAndStage(in BatchHeader batch, long firstOffset, long lastOffset)
    {
        long pid = batch.ProducerId;
        var current = _pending.GetValueOrDefault(pid) ?? _producers.GetValueOrDefault(pid);
        if (current?.FindDuplicate(batch.ProducerEpoch, batch.BaseSequence, batch.LastSequence) is { } duplicate)
            return duplicate;

        short knownEpoch = current?.Epoch ?? ProducerStateEntry.NoEpoch;
        if (batch.ProducerEpoch < knownEpoch)
            throw new LogException(KafkaError.InvalidProducerEpoch,
                $"producer {pid} epoch {batch.ProducerEpoch} is older than the current epoch {knownEpoch}");
        if (batch.ProducerEpoch != knownEpoch)
        {
            if (batch.BaseSequence != 0 && knownEpoch != ProducerStateEntry.NoEpoch)
                throw new LogException(KafkaError.OutOfOrderSequenceNumber,
                    $"producer {pid} started epoch {batch.ProducerEpoch} at sequence {batch.BaseSequence}, not 0");
        }
        else if (current!.Batches.Count > 0 && !InSequence(current.LastSeq, batch.BaseSequence))
        {
            throw new LogException(KafkaError.OutOfOrderSequenceNumber,
                $"producer {pid} sent sequence {batch.BaseSequence} after {current.LastSeq}");
        }

        var staged = _pending.GetValueOrDefault(pid) ?? current?.Clone() ?? new ProducerStateEntry(pid, batch.ProducerEpoch);
        staged.Add(batch.ProducerEpoch, new ProducerBatch(batch.BaseSequence, batch.LastSequence, firstOffset, lastOffset, batch.MaxTimestamp));
        _pending[pid] = staged;
        return null;
    }

    private static bool InSequence(int lastSeq, int nextSeq) => nextSeq == lastSeq + 1L || (nextSeq == 0 && lastSeq == int.MaxValue);

    public void CommitPending(long mapEndOffset)
    {
        foreach (var (pid, entry) in _pending) _producers[pid] = entry;
        _pending.Clear();
        MapEndOffset = mapEndOffset;
    }

    public void DiscardPending() => _pending.Clear();

    /// <summary>Replays a batch read back from the log (recovery): no validation, the log is the truth.</summary>
    public void Replay(in BatchHeader batch)
    {
        if (batch.HasProducerId && !batch.IsControl)
        {
            if (!_producers.TryGetValue(batch.ProducerId, out var entry))
                _producers[batch.ProducerId] = entry = new ProducerStateEntry(batch.ProducerId, batch.ProducerEpoch);
            entry.Add(batch.ProducerEpoch, new ProducerBatch(batch.BaseSequence, batch.LastSequence,
                batch.BaseOffset, batch.LastOffset, batch.MaxTimestamp));
        }
        MapEndOffset = batch.LastOffset + 1;
    }

    /// <summary>Forgets producers whose last batch is below the log start offset (their batches are gone).</summary>
    public void TruncateHead(long logStartOffset)
    {
        foreach (var (pid, entry) in _producers.ToArray())
            if (entry.LastOffset < logStartOffset) _producers.Remove(pid);
        foreach (long offset in ListSnapshots())
            if (offset < logStartOffset) File.Delete(LogFileNames.SnapshotFile(Dir, offset));
        if (MapEndOffset < logStartOffset) MapEndOffset = logStartOffset;
    }

    /// <summary>Forgets producers idle for producer.id.expiration.ms.</summary>
    public void RemoveExpired(long nowMs, long expirationMs)
    {
        foreach (var (pid, entry) in _producers.ToArray())
            if (nowMs - entry.LastTimestamp >= expirationMs) _producers.Remove(pid);
    }

    /// <summary>Writes the state as of <see cref="MapEndOffset"/> and keeps only the newest few snapshots.</summary>
    public void TakeSnapshot()
    {
        ProducerStateSnapshot.Write(LogFileNames.SnapshotFile(Dir, MapEndOffset), _producers.Values);
        var offsets = ListSnapshots();
        for (int i = 0; i < offsets.Count - 3; i++) File.Delete(LogFileNames.SnapshotFile(Dir, offsets[i]));
    }

    /// <summary>
    /// Loads the newest readable snapshot at or below <paramref name="logEndOffset"/> (newer ones describe a
    /// truncated tail and are deleted). Returns the offset the log must be replayed from.
    /// </summary>
    public long LoadSnapshot(long logStartOffset, long logEndOffset)
    {
        _producers.Clear();
        var offsets = ListSnapshots();
        for (int i = offsets.Count - 1; i >= 0; i--)
        {
            long offset = offsets[i];
            string path = LogFileNames.SnapshotFile(Dir, offset);
            if (offset > logEndOffset || offset < logStartOffset) { File.Delete(path); continue; }
            var entries = ProducerStateSnapshot.TryRead(path);
            if (entries is null) { File.Delete(path); continue; }
            foreach (var e in entries) _producers[e.ProducerId] = e;
            MapEndOffset = offset;
            return offset;
        }
        MapEndOffset = logStartOffset;
        return logStartOffset;
    }

    public List<long> ListSnapshots()
    {
        var offsets = new List<long>();
        if (!Directory.Exists(Dir)) return offsets;
        foreach (var path in Directory.EnumerateFiles(Dir, "*" + LogFileNames.SnapshotSuffix))
            if (LogFileNames.TryParseOffset(path, LogFileNames.SnapshotSuffix, out long offset)) offsets.Add(offset);
        offsets.Sort();
        return offsets;
    }
}
