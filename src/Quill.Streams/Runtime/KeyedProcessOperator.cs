using System.Text.Json;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// Runs a <see cref="KeyedProcessFunction{TKey,TIn,TOut}"/> in a keyed task: sets the key for state and timers, calls
/// the function, pushes what it emitted. Event-time timers fire when a watermark reaches them, before the watermark
/// goes on (so their outputs are not late for the next operator); processing-time timers fire on the task's ticks.
/// Side outputs get the same control elements as the main output, after it.
/// <para>
/// A function that joins a table with a bootstrap (<see cref="IWaitsForTable{TIn}"/>) gets the stream's records only
/// once the table is loaded (<see cref="TableLoadedAsync"/>: the keyed task had the loaded marker of every source
/// subtask of the table): until then they wait here in the order they came, table updates going on to the function,
/// and then they are handed to it in that order. The waiting records are part of this operator's snapshot (a state of
/// their own, each with its key, so a restore at any parallelism gives each to the task that owns its key), so a
/// checkpoint taken meanwhile, whose barrier is after them, has them; a restored task holds them again until the table
/// of its own run is loaded. Watermarks that come meanwhile wait too (the newest of them goes on after the records),
/// so that the joined records are not late for the operators after the join. At the end of the input the waiting
/// records are joined with what the table has (nothing is dropped).
/// </para>
/// </summary>
internal sealed class KeyedProcessOperator<TKey, TIn, TOut> : ChainedOperator<TIn, TOut>, ITimerService where TKey : notnull
{
    private readonly KeyedProcessFunction<TKey, TIn, TOut> _function;
    private readonly Func<TIn, TKey> _keySelector;
    private readonly IProcessingTimeScheduler _clock;
    private readonly string _operatorId;
    private readonly CheckpointCoordinator? _checkpoints;
    private readonly IKeyedStateStore<TKey> _state;
    private readonly ITimerQueue<TKey> _eventTimers;
    private readonly ITimerQueue<TKey> _processingTimers;
    private readonly KeyedContext<TKey, TOut> _context;
    private readonly IStreamControl[] _sideOutputs;
    private readonly int _subtask;
    private readonly string? _checkpointDirectory;
    private readonly AsyncSnapshots? _asyncSnapshots;
    /// <summary>The timer queues' names in the state store.</summary>
    private const string EventTime = "event", ProcessingTime = "processing";
    /// <summary>Null unless the function waits for its table to be loaded.</summary>
    private readonly IWaitsForTable<TIn>? _tableWait;
    private bool _tableLoaded;
    /// <summary>The stream records that came before the table was loaded, in order.</summary>
    private readonly List<(TKey Key, TIn Value, long Timestamp)> _waiting = [];
    /// <summary>The newest watermark that came while the table was loading: it goes on after the waiting records.</summary>
    private long? _deferredWatermark;
    /// <summary>The state name of the waiting records in snapshots (not a name a function's state can take by accident).</summary>
    internal const string WaitingState = "$waiting-for-table";

    public KeyedProcessOperator(KeyedProcessFunction<TKey, TIn, TOut> function, Func<TIn, TKey> keySelector, string operatorId,
        JobContext job, TaskInfo task, IStreamInput<TOut> next, IReadOnlyDictionary<string, IStreamControl> sideOutputs) : base(next)
    {
        _sideOutputs = [.. sideOutputs.Values];
        _function = function;
        _keySelector = keySelector;
        _operatorId = operatorId;
        _clock = task.Clock ?? throw new InvalidOperationException("a keyed operator runs in a keyed task");
        _state = job.StateBackend.CreateKeyedStore<TKey>(operatorId, task.Subtask, () => _clock.Now);
        _eventTimers = _state.CreateTimerQueue(EventTime);
        _processingTimers = _state.CreateTimerQueue(ProcessingTime);
        _checkpoints = job.Checkpoints;
        _subtask = task.Subtask;
        _checkpointDirectory = job.Options.CheckpointDirectory;
        _asyncSnapshots = task.Snapshots;
        _context = new KeyedContext<TKey, TOut>(this, _state, sideOutputs);
        _tableWait = function is IWaitsForTable<TIn> { WaitsForTable: true } waits ? waits : null;
        _tableLoaded = _tableWait is null;
        _function.Open(_state);
        if (_checkpoints?.Restored?.Operators.TryGetValue(operatorId, out var snapshots) == true)
        {
            int parallelism = job.Options.Parallelism;
            Restore(snapshots, _checkpoints.Restored.Directory, key => KeySlots.SlotOf(key, parallelism) == task.Subtask);
        }
    }

    /// <summary>
    /// The keys this task owns, from the snapshots of every task of the run that wrote the checkpoint: held in the
    /// checkpoint, or in state files (relative to <paramref name="directory"/>) read once each, as they are restored:
    /// the timers in a file are registered as the read passes them.
    /// </summary>
    private void Restore(List<OperatorSnapshot> snapshots, string? directory, Func<TKey, bool> keyOwned)
    {
        string FileOf(OperatorSnapshot snapshot) => Path.Combine(directory ?? throw new InvalidOperationException(
            $"a checkpoint naming state file {snapshot.File} was not read from a directory"), snapshot.File!);
        IEnumerable<(string Name, JsonElement[] Entry)> StatesOf(OperatorSnapshot snapshot)
        {
            if (snapshot.File is null)
            {
                foreach (var timer in snapshot.EventTimers) RestoreTimer(TimeDomain.EventTime, timer, keyOwned);
                foreach (var timer in snapshot.ProcessingTimers) RestoreTimer(TimeDomain.ProcessingTime, timer, keyOwned);
                return KeyedStateSnapshots.Entries([snapshot.States]);
            }
            return FromFile(FileOf(snapshot));
        }
        IEnumerable<(string Name, JsonElement[] Entry)> FromFile(string path)
        {
            foreach (var (timers, name, entry) in StateFiles.Read(path))
            {
                if (timers is { } domain) RestoreTimer(domain, entry, keyOwned);
                else yield return (name, entry);
            }
        }
        var entries = snapshots.SelectMany(StatesOf);
        var waiting = new List<(long Seq, TKey Key, TIn Value, long Timestamp)>();
        _state.Restore(entries.Where(e =>
        {
            if (_tableWait is null || e.Name != WaitingState) return true;
            var key = StateJson.Read<TKey>(e.Entry[0]);
            if (keyOwned(key))
            {
                var record = StateJson.Read<WaitingRecord>(e.Entry[1]);
                waiting.Add((record.Seq, key, record.Value, record.Timestamp));
            }
            return false;
        }), keyOwned);
        _waiting.AddRange(waiting.OrderBy(w => w.Seq).Select(w => (w.Key, w.Value, w.Timestamp)));
    }

    /// <summary>A restored timer ([key, time]) of a key this task owns goes back into its queue.</summary>
    private void RestoreTimer(TimeDomain domain, JsonElement[] timer, Func<TKey, bool> keyOwned)
    {
        var key = StateJson.Read<TKey>(timer[0]);
        if (!keyOwned(key)) return;
        long time = timer[1].GetInt64();
        if (domain == TimeDomain.EventTime) _eventTimers.Register(key, time);
        else
        {
            _processingTimers.Register(key, time);
            _clock.RequestTick(time);
        }
    }

    private static IEnumerable<JsonElement[]> WriteTimers(ITimerQueue<TKey> timers) =>
        timers.Registered.Select(t => new[] { StateJson.Write(t.Key), StateJson.Write(t.Time) });

    /// <summary>
    /// This task's snapshot for checkpoint <paramref name="checkpointId"/>. State on disk, with a checkpoint directory:
    /// captured now (a RocksDB snapshot, no copy) and streamed into a state file of the task's own off the task's
    /// thread, so that state larger than memory is never held in memory to be checkpointed and the task does not wait
    /// while its file is written; the task's acknowledgement waits for it instead. Otherwise held in the checkpoint.
    /// </summary>
    private void Snapshot(CheckpointCoordinator checkpoints, long checkpointId)
    {
        if (_checkpointDirectory is { } directory && _asyncSnapshots is { } phase && _state.CaptureForFile() is { } capture)
        {
            string file = StateFiles.RelativePath(checkpointId, _operatorId, _subtask);
            string operatorId = _operatorId;
            var states = WithWaiting(capture.States); // the waiting records as they are now, at the barrier
            phase.Start(abort =>
            {
                using (capture)
                    StateFiles.Write(Path.Combine(directory, file), states, capture.Timers(EventTime), capture.Timers(ProcessingTime), abort);
                checkpoints.AddOperatorSnapshot(checkpointId, operatorId, new OperatorSnapshot { File = file });
            });
            return;
        }
        checkpoints.AddOperatorSnapshot(checkpointId, _operatorId, new OperatorSnapshot
        {
            States = KeyedStateSnapshots.Hold(WithWaiting(_state.SnapshotStates())),
            EventTimers = [.. WriteTimers(_eventTimers)],
            ProcessingTimers = [.. WriteTimers(_processingTimers)],
        });
    }

    /// <summary>
    /// The function's <paramref name="states"/>, and the records waiting for the table if there are any (copied now, at
    /// the barrier: the file of state on disk is written after the task has gone on).
    /// </summary>
    private IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> WithWaiting(IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> states) =>
        _waiting.Count == 0 ? states
        : states.Append((WaitingState, _waiting.Select((w, i) =>
            new[] { StateJson.Write(w.Key), StateJson.Write(new WaitingRecord(i, w.Timestamp, w.Value)) }).ToList()));

    /// <summary>A record waiting for the table, as a snapshot holds it: its place in the order they came, its timestamp.</summary>
    private readonly record struct WaitingRecord(long Seq, long Timestamp, TIn Value);

    /// <summary>The table is loaded (every source subtask of it said so): the waiting records are joined, in order.</summary>
    public override async ValueTask TableLoadedAsync(int tableSenders)
    {
        // Consumed here: the stage after this one does not join this table.
        if (_tableLoaded) return;
        await ReleaseWaitingAsync();
    }

    /// <summary>Joins the waiting records, then lets the watermark that waited behind them go on.</summary>
    private async ValueTask ReleaseWaitingAsync()
    {
        _tableLoaded = true;
        foreach (var (key, value, timestamp) in _waiting)
        {
            _state.CurrentKey = key;
            _context.Enter(key, timestamp, null);
            _function.ProcessElement(value, _context);
            await PushEmittedAsync();
        }
        _waiting.Clear();
        if (_deferredWatermark is { } watermark)
        {
            _deferredWatermark = null;
            await WatermarkAsync(watermark);
        }
    }

    /// <summary>The barrier passes: snapshot state and timers for the checkpoint, then pass it on.</summary>
    public override async ValueTask BarrierAsync(long checkpointId)
    {
        if (_checkpoints is not null) Snapshot(_checkpoints, checkpointId);
        await Next.BarrierAsync(checkpointId);
        foreach (var side in _sideOutputs) await side.BarrierAsync(checkpointId);
    }

    public override async ValueTask WatermarkStatusAsync(WatermarkStatus status)
    {
        await Next.WatermarkStatusAsync(status);
        foreach (var side in _sideOutputs) await side.WatermarkStatusAsync(status);
    }

    public override async ValueTask EndAsync()
    {
        await ReleaseWaitingAsync();
        await Next.EndAsync();
        foreach (var side in _sideOutputs) await side.EndAsync();
    }

    public override async ValueTask FlushAsync()
    {
        await Next.FlushAsync();
        foreach (var side in _sideOutputs) await side.FlushAsync();
    }

    public long CurrentProcessingTime => _clock.Now;
    public long CurrentWatermark { get; private set; } = long.MinValue;

    public void RegisterEventTimeTimer(long time) => _eventTimers.Register(_state.CurrentKey, time);
    public void DeleteEventTimeTimer(long time) => _eventTimers.Delete(_state.CurrentKey, time);

    public void RegisterProcessingTimeTimer(long time)
    {
        _processingTimers.Register(_state.CurrentKey, time);
        _clock.RequestTick(time);
    }

    public void DeleteProcessingTimeTimer(long time) => _processingTimers.Delete(_state.CurrentKey, time);

    public override ValueTask RecordAsync(TIn value, long timestamp)
    {
        var key = _keySelector(value);
        if (!_tableLoaded && _tableWait!.IsStreamRecord(value))
        {
            _waiting.Add((key, value, timestamp));
            return ValueTask.CompletedTask;
        }
        _state.CurrentKey = key;
        _context.Enter(key, timestamp, null);
        _function.ProcessElement(value, _context);
        return PushEmittedAsync();
    }

    public override async ValueTask WatermarkAsync(long watermark)
    {
        if (!_tableLoaded)
        {
            _deferredWatermark = watermark;
            return;
        }
        CurrentWatermark = watermark;
        while (_eventTimers.TryTakeDue(watermark, out var key, out long time)) await FireAsync(key, time, TimeDomain.EventTime);
        await Next.WatermarkAsync(watermark);
        foreach (var side in _sideOutputs) await side.WatermarkAsync(watermark);
    }

    public override async ValueTask ProcessingTimeAsync(long now)
    {
        while (_processingTimers.TryTakeDue(now, out var key, out long time)) await FireAsync(key, time, TimeDomain.ProcessingTime);
        if (_processingTimers.TryPeekTime(out long next)) _clock.RequestTick(next);
        await Next.ProcessingTimeAsync(now);
        foreach (var side in _sideOutputs) await side.ProcessingTimeAsync(now);
    }

    private async ValueTask FireAsync(TKey key, long time, TimeDomain domain)
    {
        _state.CurrentKey = key;
        _context.Enter(key, time, domain);
        _function.OnTimer(time, _context);
        await PushEmittedAsync();
    }

    /// <summary>
    /// Pushes what the function emitted. Without side outputs, as long as each push completes at once (a chained sink,
    /// a shuffle's batch), no async state machine is started per record.
    /// </summary>
    private ValueTask PushEmittedAsync()
    {
        var emitted = _context.Emitted;
        if (_context.SideEmitted.Count > 0) return PushEmittedSlowAsync(default, 0);
        for (int i = 0; i < emitted.Count; i++)
        {
            var pushed = Next.RecordAsync(emitted[i].Value, emitted[i].Timestamp);
            if (!pushed.IsCompletedSuccessfully) return PushEmittedSlowAsync(pushed, i + 1);
            pushed.GetAwaiter().GetResult();
        }
        emitted.Clear();
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits for <paramref name="pending"/> (the push before), then pushes from the <paramref name="next"/>th emitted record on.</summary>
    private async ValueTask PushEmittedSlowAsync(ValueTask pending, int next)
    {
        // Nothing downstream calls back into this operator (the dataflow is acyclic), so the list is stable while pushed.
        var emitted = _context.Emitted;
        await pending;
        for (int i = next; i < emitted.Count; i++) await Next.RecordAsync(emitted[i].Value, emitted[i].Timestamp);
        emitted.Clear();
        var sideEmitted = _context.SideEmitted;
        for (int i = 0; i < sideEmitted.Count; i++) await sideEmitted[i]();
        sideEmitted.Clear();
    }
}
