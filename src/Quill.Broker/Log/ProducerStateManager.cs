using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

/// <summary>
/// Idempotent producer state of one partition (Kafka's ProducerStateManager): per producer id the epoch and
/// the last five batches, checked on every append so a retried batch is answered with its original offsets
/// instead of being written twice. Sequence rules follow Kafka's ProducerAppendInfo:
/// <list type="bullet">
/// <item>an epoch older than the known one: InvalidProducerEpoch;</item>
/// <item>a newer epoch must start at sequence 0, else OutOfOrderSequenceNumber;</item>
/// <item>same epoch: the first sequence must follow the last one (wrapping at int.MaxValue), else OutOfOrderSequenceNumber;
/// an epoch known only from a transaction marker must start at 0;</item>
/// <item>a producer id with no state (new, or its batches were deleted by retention/DeleteRecords) is accepted at any
/// sequence, as Kafka does since 2.5 (KIP-360), instead of the older UnknownProducerId answer.</item>
/// </list>
/// Transactions (KIP-98): a transactional batch starts its producer's transaction at its first offset unless one is
/// ongoing; a COMMIT or ABORT marker ends it (<see cref="CompleteTxn"/>). While one is ongoing the producer may
/// not write non-transactional batches (InvalidTxnState). The ongoing transactions, ordered by first offset, give
/// the first unstable offset, which bounds what read_committed consumers may see.
/// State is saved in <c>{offset}.snapshot</c> files (see <see cref="ProducerStateSnapshot"/>) and rebuilt on load
/// from the newest snapshot plus the batches after it. Used only under the log's lock.
/// </summary>
public sealed class ProducerStateManager
{
    private readonly Dictionary<long, ProducerStateEntry> _producers = [];
    private readonly Dictionary<long, ProducerStateEntry> _pending = [];
    private readonly SortedSet<(long FirstOffset, long ProducerId)> _ongoing = [];

    public ProducerStateManager(string dir) => Dir = dir;

    public string Dir { get; }
    /// <summary>The offset after the last batch applied: where a replay from the log continues.</summary>
    public long MapEndOffset { get; private set; }
    public int Count => _producers.Count;
    public IReadOnlyDictionary<long, ProducerStateEntry> Producers => _producers;

    public ProducerStateEntry? Get(long producerId) => _producers.GetValueOrDefault(producerId);

    /// <summary>The first offset of the oldest ongoing transaction; -1 if none is ongoing.</summary>
    public long FirstUnstableOffset => _ongoing.Count == 0 ? -1 : _ongoing.Min.FirstOffset;

    /// <summary>The ongoing transactions, oldest first.</summary>
    public IEnumerable<(long FirstOffset, long ProducerId)> OngoingTransactions => _ongoing;

    /// <summary>Stores <paramref name="entry"/> as its producer's state, keeping the ongoing-transaction set in step.</summary>
    private void Put(ProducerStateEntry entry)
    {
        if (_producers.TryGetValue(entry.ProducerId, out var old) && old.CurrentTxnFirstOffset >= 0)
            _ongoing.Remove((old.CurrentTxnFirstOffset, old.ProducerId));
        _producers[entry.ProducerId] = entry;
        if (entry.CurrentTxnFirstOffset >= 0) _ongoing.Add((entry.CurrentTxnFirstOffset, entry.ProducerId));
    }

    private void Remove(long producerId)
    {
        if (_producers.Remove(producerId, out var old) && old.CurrentTxnFirstOffset >= 0)
            _ongoing.Remove((old.CurrentTxnFirstOffset, producerId));
    }

    /// <summary>
    /// Validates one client batch (in append order, with its assigned offsets) against the state plus the
    /// batches before it in the same append. Returns the original batch if it is a retried duplicate.
    /// Throws <see cref="LogException"/> on a sequence or epoch error. Nothing is applied until <see cref="CommitPending"/>.
    /// </summary>
    public ProducerBatch? CheckAndStage(in BatchHeader batch, long firstOffset, long lastOffset, AppendOrigin origin = AppendOrigin.Client)
    {
        long pid = batch.ProducerId;
        var current = _pending.GetValueOrDefault(pid) ?? _producers.GetValueOrDefault(pid);
        bool client = origin == AppendOrigin.Client;
        if (client && current?.FindDuplicate(batch.ProducerEpoch, batch.BaseSequence, batch.LastSequence) is { } duplicate)
            return duplicate;

        short knownEpoch = current?.Epoch ?? ProducerStateEntry.NoEpoch;
        if (batch.ProducerEpoch < knownEpoch)
            throw new LogException(KafkaError.InvalidProducerEpoch,
                $"producer {pid} epoch {batch.ProducerEpoch} is older than the current epoch {knownEpoch}");
        if (!client)
        {
            // A coordinator's batch (transactional offsets) carries no sequence: only its epoch is checked, as in Kafka.
        }
        else if (batch.ProducerEpoch != knownEpoch)
        {
            if (batch.BaseSequence != 0 && knownEpoch != ProducerStateEntry.NoEpoch)
                throw new LogException(KafkaError.OutOfOrderSequenceNumber,
                    $"producer {pid} started epoch {batch.ProducerEpoch} at sequence {batch.BaseSequence}, not 0");
        }
        else if (current!.Batches.Count == 0 ? batch.BaseSequence != 0 : !InSequence(current.LastSeq, batch.BaseSequence))
        {
            // No batches in the known epoch: a marker set it (the coordinator's bump), so the epoch starts at 0, as in Kafka.
            throw new LogException(KafkaError.OutOfOrderSequenceNumber,
                $"producer {pid} sent sequence {batch.BaseSequence} after {current.LastSeq}");
        }

        if (!batch.IsTransactional && current?.CurrentTxnFirstOffset >= 0)
            throw new LogException(KafkaError.InvalidTxnState,
                $"producer {pid} sent a non-transactional batch during its transaction begun at offset {current.CurrentTxnFirstOffset}");

        var staged = _pending.GetValueOrDefault(pid) ?? current?.Clone() ?? new ProducerStateEntry(pid, batch.ProducerEpoch);
        staged.Add(batch.ProducerEpoch, new ProducerBatch(batch.BaseSequence, batch.LastSequence, firstOffset, lastOffset, batch.MaxTimestamp));
        if (batch.IsTransactional && staged.CurrentTxnFirstOffset < 0) staged.CurrentTxnFirstOffset = firstOffset;
        _pending[pid] = staged;
        return null;
    }

    private static bool InSequence(int lastSeq, int nextSeq) => nextSeq == lastSeq + 1L || (nextSeq == 0 && lastSeq == int.MaxValue);

    public void CommitPending(long mapEndOffset)
    {
        foreach (var entry in _pending.Values) Put(entry);
        _pending.Clear();
        MapEndOffset = mapEndOffset;
    }

    public void DiscardPending() => _pending.Clear();

    /// <summary>
    /// Checks a marker before it is written: its epoch may not be older than the producer's (InvalidProducerEpoch),
    /// nor its coordinator epoch older than the last marker's (TransactionCoordinatorFenced), as in Kafka.
    /// </summary>
    public void ValidateMarker(long producerId, short producerEpoch, int coordinatorEpoch)
    {
        if (_producers.GetValueOrDefault(producerId) is not { } entry) return;
        if (producerEpoch < entry.Epoch)
            throw new LogException(KafkaError.InvalidProducerEpoch,
                $"marker for producer {producerId} has epoch {producerEpoch}, older than the current epoch {entry.Epoch}");
        if (coordinatorEpoch < entry.CoordinatorEpoch)
            throw new LogException(KafkaError.TransactionCoordinatorFenced,
                $"marker for producer {producerId} comes from coordinator epoch {coordinatorEpoch}, older than {entry.CoordinatorEpoch}");
    }

    /// <summary>
    /// Applies a COMMIT or ABORT marker written at <paramref name="markerOffset"/>: ends the producer's ongoing
    /// transaction (if any; a marker without one completes nothing) and returns what it completed, with the first
    /// unstable offset left after it.
    /// </summary>
    public CompletedTxn CompleteTxn(long producerId, short producerEpoch, int coordinatorEpoch, long markerOffset, long timestamp)
    {
        var entry = _producers.GetValueOrDefault(producerId)?.Clone() ?? new ProducerStateEntry(producerId, producerEpoch);
        long firstOffset = entry.CurrentTxnFirstOffset;
        entry.EndTxn(producerEpoch, coordinatorEpoch, timestamp);
        Put(entry);
        MapEndOffset = markerOffset + 1;
        long firstUnstable = FirstUnstableOffset;
        return new CompletedTxn(producerId, firstOffset, markerOffset, firstUnstable >= 0 ? firstUnstable : markerOffset + 1);
    }

    /// <summary>
    /// Replays a batch read back from the log (recovery): no validation, the log is the truth. A control batch
    /// needs its <paramref name="marker"/>; what it completes is returned (null for data batches).
    /// </summary>
    public CompletedTxn? Replay(in BatchHeader batch, ControlMarker? marker = null)
    {
        CompletedTxn? completed = null;
        if (batch.HasProducerId && batch.IsControl && marker is { } m)
        {
            completed = CompleteTxn(batch.ProducerId, batch.ProducerEpoch, m.CoordinatorEpoch, batch.LastOffset, batch.MaxTimestamp);
        }
        else if (batch.HasProducerId && !batch.IsControl)
        {
            var entry = _producers.GetValueOrDefault(batch.ProducerId) ?? new ProducerStateEntry(batch.ProducerId, batch.ProducerEpoch);
            entry.Add(batch.ProducerEpoch, new ProducerBatch(batch.BaseSequence, batch.LastSequence,
                batch.BaseOffset, batch.LastOffset, batch.MaxTimestamp));
            if (batch.IsTransactional && entry.CurrentTxnFirstOffset < 0) entry.CurrentTxnFirstOffset = batch.BaseOffset;
            Put(entry);
        }
        MapEndOffset = batch.LastOffset + 1;
        return completed;
    }

    /// <summary>
    /// Forgets producers whose last batch is below the log start offset (their batches are gone), with their
    /// ongoing transactions, as Kafka does.
    /// </summary>
    public void TruncateHead(long logStartOffset)
    {
        foreach (var (pid, entry) in _producers.ToArray())
            if (entry.LastOffset < logStartOffset) Remove(pid);
        foreach (long offset in ListSnapshots())
            if (offset < logStartOffset) File.Delete(LogFileNames.SnapshotFile(Dir, offset));
        if (MapEndOffset < logStartOffset) MapEndOffset = logStartOffset;
    }

    /// <summary>Forgets producers idle for producer.id.expiration.ms, but never one with an ongoing transaction.</summary>
    public void RemoveExpired(long nowMs, long expirationMs)
    {
        foreach (var (pid, entry) in _producers.ToArray())
            if (entry.CurrentTxnFirstOffset < 0 && nowMs - entry.LastTimestamp >= expirationMs) Remove(pid);
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
    /// truncated tail and are deleted) and at or below <paramref name="atMost"/> (the loader asks for an older one
    /// when it must replay from further back to rebuild transaction indexes). Returns the offset the log must be
    /// replayed from.
    /// </summary>
    public long LoadSnapshot(long logStartOffset, long logEndOffset, long atMost = long.MaxValue)
    {
        _producers.Clear();
        _ongoing.Clear();
        var offsets = ListSnapshots();
        for (int i = offsets.Count - 1; i >= 0; i--)
        {
            long offset = offsets[i];
            string path = LogFileNames.SnapshotFile(Dir, offset);
            if (offset > logEndOffset || offset < logStartOffset) { File.Delete(path); continue; }
            if (offset > atMost) continue;
            var entries = ProducerStateSnapshot.TryRead(path);
            if (entries is null) { File.Delete(path); continue; }
            foreach (var e in entries) Put(e);
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

/// <summary>
/// What a marker completed: the producer's transaction from <paramref name="FirstOffset"/> (-1 if it had none
/// ongoing) to the marker at <paramref name="LastOffset"/>, and the partition's last stable offset after it.
/// </summary>
public readonly record struct CompletedTxn(long ProducerId, long FirstOffset, long LastOffset, long LastStableOffset);
