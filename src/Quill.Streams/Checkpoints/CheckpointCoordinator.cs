using Quill.Streams.Runtime;

namespace Quill.Streams.Checkpoints;

/// <summary>A source task, as the coordinator sees it: it can be asked to put a barrier into its stream.</summary>
internal interface IBarrierSource
{
    /// <summary>From the coordinator's timer: inject checkpoint <paramref name="checkpointId"/>'s barrier at the next record boundary.</summary>
    void RequestBarrier(long checkpointId);
}

/// <summary>
/// What takes part in completing a checkpoint besides writing it (the exactly-once output): <see cref="PreCommit"/>
/// before the checkpoint is written (it may add to it), <see cref="Commit"/> once it is durably written.
/// </summary>
internal interface ITwoPhaseCommit
{
    void PreCommit(Checkpoint checkpoint);
    void Commit(Checkpoint checkpoint);
}

/// <summary>
/// Triggers checkpoints (Flink's CheckpointCoordinator, at-least-once): every interval after the last one completed, it
/// asks each source task to inject a barrier. A source records its offsets as it injects; each keyed operator records
/// its snapshot when the aligned barrier passes it; sinks flush. Every task acknowledges once the barrier has gone
/// through its chain; when all have, the checkpoint is complete and is written to storage (under exactly-once between a
/// pre-commit and the commit of its output transaction). One checkpoint at a time: the next is triggered only after the
/// previous one is written and committed.
/// </summary>
internal sealed class CheckpointCoordinator : IDisposable
{
    private readonly CheckpointStorage _storage;
    private readonly TimeSpan _interval;
    private readonly ITimer _timer;
    private readonly List<IBarrierSource> _sources = [];
    private readonly ITwoPhaseCommit? _twoPhaseCommit;
    private readonly Lock _lock = new();
    private Checkpoint? _pending;
    private int _acknowledged;
    private int _taskCount;
    private long _lastId;
    private bool _stopped;
    private bool _finalRequested;
    private long _finalId;

    /// <param name="restored">The checkpoint the job starts from (see <see cref="Restored"/>).</param>
    public CheckpointCoordinator(CheckpointStorage storage, TimeSpan interval, TimeProvider time, Checkpoint? restored,
        ITwoPhaseCommit? twoPhaseCommit = null)
    {
        _storage = storage;
        _interval = interval;
        _twoPhaseCommit = twoPhaseCommit;
        Restored = restored;
        _lastId = Restored?.Id ?? 0;
        _timer = time.CreateTimer(_ => Trigger(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The checkpoint the job starts from, if the directory had one.</summary>
    public Checkpoint? Restored { get; }

    public void AddSource(IBarrierSource source)
    {
        lock (_lock) _sources.Add(source);
    }

    /// <summary>Called once every task exists: how many acknowledgements complete a checkpoint.</summary>
    public void Start(int taskCount)
    {
        lock (_lock) _taskCount = taskCount;
        _timer.Change(_interval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>No new checkpoints (the job is stopping): a source that has stopped would never acknowledge.</summary>
    public void Stop()
    {
        lock (_lock) _stopped = true;
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Exactly-once, at a clean stop (Flink's stop with a final checkpoint): one last checkpoint, after the one in
    /// progress if any, so that the output of everything read is committed. Each source calls this once it has stopped
    /// reading, then injects the barriers it is asked for up to <see cref="FinalCheckpointId"/>'s, then ends.
    /// </summary>
    public void RequestFinalCheckpoint()
    {
        lock (_lock)
        {
            _stopped = true;
            if (_finalRequested) return;
            _finalRequested = true;
            if (_pending is not null) return; // started when the pending one completes
        }
        StartCheckpoint(final: true);
    }

    /// <summary>The final checkpoint's id once it has started; 0 before.</summary>
    public long FinalCheckpointId
    {
        get
        {
            lock (_lock) return _finalId;
        }
    }

    private void Trigger() => StartCheckpoint(final: false);

    private void StartCheckpoint(bool final)
    {
        IBarrierSource[] sources;
        long id;
        lock (_lock)
        {
            if (_pending is not null || (final ? _finalId != 0 : _stopped)) return;
            id = ++_lastId;
            _pending = new Checkpoint { Id = id };
            _acknowledged = 0;
            sources = [.. _sources];
            if (final) _finalId = id;
        }
        foreach (var source in sources) source.RequestBarrier(id);
    }

    public void AddSourceOffsets(long checkpointId, string sourceId, IEnumerable<KeyValuePair<string, long>> offsets)
    {
        lock (_lock)
        {
            if (_pending?.Id != checkpointId) return;
            if (!_pending.SourceOffsets.TryGetValue(sourceId, out var all)) _pending.SourceOffsets[sourceId] = all = [];
            foreach (var (partition, offset) in offsets) all[partition] = offset;
        }
    }

    public void AddOperatorSnapshot(long checkpointId, string operatorId, OperatorSnapshot snapshot)
    {
        lock (_lock)
        {
            if (_pending?.Id != checkpointId) return;
            if (!_pending.Operators.TryGetValue(operatorId, out var all)) _pending.Operators[operatorId] = all = [];
            all.Add(snapshot);
        }
    }

    /// <summary>A task has passed checkpoint <paramref name="checkpointId"/>'s barrier through its whole chain.</summary>
    public void Acknowledge(long checkpointId)
    {
        Checkpoint complete;
        lock (_lock)
        {
            if (_pending?.Id != checkpointId || ++_acknowledged < _taskCount) return;
            complete = _pending;
        }
        // Written by the last task to acknowledge; nothing else of this checkpoint changes any more. A failure here
        // fails that task, and so the job.
        _twoPhaseCommit?.PreCommit(complete);
        _storage.Write(complete);
        _twoPhaseCommit?.Commit(complete);
        bool startFinal;
        lock (_lock)
        {
            _pending = null;
            startFinal = _finalRequested && _finalId == 0;
            if (_stopped && !startFinal) return;
        }
        if (startFinal) StartCheckpoint(final: true);
        else _timer.Change(_interval, Timeout.InfiniteTimeSpan);
    }

    public void Dispose() => _timer.Dispose();
}
