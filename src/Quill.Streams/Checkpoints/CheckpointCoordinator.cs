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
/// previous one is written and committed. A savepoint is a checkpoint triggered on request (at once, or right after the
/// one in progress) that is also copied, once committed, to a savepoint directory (<see cref="Savepoints"/>).
/// Ids come from a counter (under high availability, Keeper's); state is written under the operators' names
/// (<see cref="OperatorNames"/>).
/// </summary>
internal sealed class CheckpointCoordinator : IDisposable
{
    private readonly ICheckpointStore? _storage;
    private readonly TimeSpan _interval;
    private readonly bool _periodic;
    private readonly ITimer _timer;
    private readonly List<IBarrierSource> _sources = [];
    private readonly ITwoPhaseCommit? _twoPhaseCommit;
    private readonly ICheckpointIdCounter _ids;
    private readonly OperatorNames? _names;
    private readonly string _jobName;
    private readonly string? _savepointDirectory;
    private readonly Lock _lock = new();
    private readonly List<SavepointRequest> _savepointRequests = [];
    private List<SavepointRequest> _pendingSavepoints = [];
    private Checkpoint? _pending;
    private int _acknowledged;
    private int _taskCount;
    private bool _stopped;
    private bool _finalRequested;
    private long _finalId;

    /// <param name="storage">Where completed checkpoints go; null: savepoints only (no periodic checkpoints).</param>
    /// <param name="restored">The checkpoint the job starts from (see <see cref="Restored"/>), under the operators' ids.</param>
    /// <param name="ids">The ids of this run's checkpoints (default: on from the restored one's).</param>
    public CheckpointCoordinator(ICheckpointStore? storage, TimeSpan interval, TimeProvider time, Checkpoint? restored,
        ITwoPhaseCommit? twoPhaseCommit = null, ICheckpointIdCounter? ids = null, OperatorNames? names = null, string jobName = "job",
        string? savepointDirectory = null)
    {
        _storage = storage;
        _interval = interval;
        _periodic = storage is not null;
        _twoPhaseCommit = twoPhaseCommit;
        _ids = ids ?? new LocalCheckpointIdCounter((restored?.Id ?? 0) + 1);
        _names = names;
        _jobName = jobName;
        _savepointDirectory = savepointDirectory;
        Restored = restored;
        _timer = time.CreateTimer(_ => Trigger(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The checkpoint the job starts from, if the directory had one.</summary>
    public Checkpoint? Restored { get; }

    /// <summary>
    /// Raised once a checkpoint is complete (written and, under exactly-once, committed), with its source offsets under
    /// the running ids (Flink's notifyCheckpointComplete): at-least-once sources commit them to the job's consumer group.
    /// Runs on the thread that completed the checkpoint: a handler only takes note, and never throws.
    /// </summary>
    public event Action<Checkpoint>? Completed;

    /// <summary>The id the next checkpoint will have.</summary>
    public long NextId => _ids.Peek();

    /// <summary>Raised when taking a checkpoint fails outside a task (the id counter, on the timer): the job must fail.</summary>
    public Action<Exception>? Failed { get; set; }

    /// <summary>
    /// In a process that runs part of a job spread over several (scale-out) but does not lead it: what the tasks here
    /// report goes to the leader's coordinator instead (<see cref="Cluster.ICheckpointRelay"/>), and barriers are
    /// asked for by the leader (<see cref="RequestBarrierFromLeader"/>). Null: this coordinator completes checkpoints.
    /// </summary>
    public Cluster.ICheckpointRelay? Relay { get; set; }

    /// <summary>Relayed mode: the leader asks for checkpoint <paramref name="checkpointId"/>'s barrier from this process's sources.</summary>
    public void RequestBarrierFromLeader(long checkpointId)
    {
        IBarrierSource[] sources;
        lock (_lock)
        {
            _leaderRequested = Math.Max(_leaderRequested, checkpointId);
            sources = [.. _sources];
        }
        foreach (var source in sources) source.RequestBarrier(checkpointId);
    }

    /// <summary>Relayed mode: the leader completed <paramref name="checkpoint"/> (its id and source offsets): raises <see cref="Completed"/> here too.</summary>
    public void CompletedByLeader(Checkpoint checkpoint) => Completed?.Invoke(checkpoint);

    /// <summary>Relayed mode: the newest barrier the leader asked for (a source created after the request is asked too).</summary>
    private long _leaderRequested;

    public void AddSource(IBarrierSource source)
    {
        long requested;
        lock (_lock)
        {
            _sources.Add(source);
            requested = _leaderRequested;
        }
        if (requested > 0) source.RequestBarrier(requested);
    }

    /// <summary>Called once every task exists: how many acknowledgements complete a checkpoint.</summary>
    public void Start(int taskCount)
    {
        bool savepointWaiting;
        lock (_lock)
        {
            _taskCount = taskCount;
            savepointWaiting = _savepointRequests.Count > 0;
        }
        if (savepointWaiting) Trigger();
        else if (_periodic) _timer.Change(_interval, Timeout.InfiniteTimeSpan);
    }

    /// <summary>No new checkpoints (the job is stopping): a source that has stopped would never acknowledge.</summary>
    public void Stop()
    {
        List<SavepointRequest> waiting;
        lock (_lock)
        {
            _stopped = true;
            waiting = [.. _savepointRequests];
            _savepointRequests.Clear();
        }
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        foreach (var request in waiting) request.Result.TrySetException(new InvalidOperationException("the job stopped before the savepoint was taken"));
    }

    /// <summary>
    /// Takes a savepoint: a checkpoint now (or right after the one in progress), copied to <paramref name="directory"/>
    /// (default: the job's savepoint directory) once complete. Completes with the savepoint's directory.
    /// </summary>
    public Task<string> TriggerSavepointAsync(string? directory)
    {
        directory ??= _savepointDirectory ?? throw new ArgumentException("no savepoint directory: name one, or set StreamJobOptions.SavepointDirectory");
        var request = new SavepointRequest(directory);
        bool startNow;
        lock (_lock)
        {
            if (_stopped) throw new InvalidOperationException("the job is stopping: no savepoint can be taken");
            _savepointRequests.Add(request);
            startNow = _pending is null && _taskCount > 0;
        }
        // Never on the caller's thread: taking an id may wait on Keeper, and the caller may be Keeper's event thread.
        if (startNow) ThreadPool.QueueUserWorkItem(_ => Trigger());
        return request.Result.Task;
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

    private void Trigger()
    {
        try
        {
            StartCheckpoint(final: false);
        }
        catch (Exception e)
        {
            Failed?.Invoke(e);
        }
    }

    private void StartCheckpoint(bool final)
    {
        IBarrierSource[] sources;
        long id;
        lock (_lock)
        {
            if (_pending is not null || (final ? _finalId != 0 : _stopped)) return;
            // Under high availability the counter is in Keeper: it fails if this instance is no longer the leader.
            id = _ids.Next();
            _pending = new Checkpoint { Id = id };
            _pendingSavepoints = [.. _savepointRequests];
            _savepointRequests.Clear();
            _acknowledged = 0;
            sources = [.. _sources];
            if (final) _finalId = id;
        }
        foreach (var source in sources) source.RequestBarrier(id);
    }

    public void AddSourceOffsets(long checkpointId, string sourceId, IEnumerable<KeyValuePair<string, long>> offsets)
    {
        if (Relay is { } relay)
        {
            relay.SourceOffsets(checkpointId, sourceId, offsets);
            return;
        }
        lock (_lock)
        {
            if (_pending?.Id != checkpointId) return;
            if (!_pending.SourceOffsets.TryGetValue(sourceId, out var all)) _pending.SourceOffsets[sourceId] = all = [];
            foreach (var (partition, offset) in offsets) all[partition] = offset;
        }
    }

    public void AddOperatorSnapshot(long checkpointId, string operatorId, OperatorSnapshot snapshot)
    {
        if (Relay is { } relay)
        {
            relay.OperatorSnapshot(checkpointId, operatorId, snapshot);
            return;
        }
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
        if (Relay is { } relay)
        {
            relay.Acknowledge(checkpointId);
            return;
        }
        Checkpoint complete;
        List<SavepointRequest> savepoints;
        lock (_lock)
        {
            if (_pending?.Id != checkpointId || ++_acknowledged < _taskCount) return;
            complete = _pending;
            savepoints = _pendingSavepoints;
            _pendingSavepoints = [];
        }
        // Written by the last task to acknowledge; nothing else of this checkpoint changes any more. A failure here
        // fails that task, and so the job.
        try
        {
            _twoPhaseCommit?.PreCommit(complete);
            var stored = _names?.ToStored(complete) ?? complete;
            _storage?.Write(stored);
            _twoPhaseCommit?.Commit(complete);
            Completed?.Invoke(complete);
            foreach (var savepoint in savepoints) CompleteSavepoint(savepoint, stored);
        }
        catch (Exception e)
        {
            foreach (var savepoint in savepoints) savepoint.Result.TrySetException(e);
            throw;
        }
        bool startFinal, savepointWaiting;
        lock (_lock)
        {
            _pending = null;
            startFinal = _finalRequested && _finalId == 0;
            savepointWaiting = _savepointRequests.Count > 0;
            if (_stopped && !startFinal) return;
        }
        if (startFinal) StartCheckpoint(final: true);
        else if (savepointWaiting) Trigger();
        else if (_periodic) _timer.Change(_interval, Timeout.InfiniteTimeSpan);
    }

    private void CompleteSavepoint(SavepointRequest request, Checkpoint stored)
    {
        try
        {
            string path = Savepoints.Write(request.Directory, _jobName, stored, _storage?.Directory);
            // Once it is on disk, a store that lists savepoints (Keeper's) records it; that only logs its failures.
            (_storage as ISavepointCatalog)?.Add(stored.Id, path);
            request.Result.TrySetResult(path);
        }
        catch (Exception e)
        {
            // The checkpoint itself completed: only the copy failed, which fails the request, not the job.
            request.Result.TrySetException(e);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        List<SavepointRequest> waiting;
        lock (_lock)
        {
            waiting = [.. _savepointRequests, .. _pendingSavepoints];
            _savepointRequests.Clear();
            _pendingSavepoints = [];
        }
        foreach (var request in waiting) request.Result.TrySetException(new InvalidOperationException("the job ended before the savepoint was taken"));
    }

    private sealed record SavepointRequest(string Directory)
    {
        public TaskCompletionSource<string> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
