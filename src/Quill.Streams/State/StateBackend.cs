using System.Text.Json;
using Quill.Streams.State.Disk;

namespace Quill.Streams.State;

/// <summary>
/// Where a job's keyed state lives while it runs (Flink's state backends): <see cref="InMemory"/> (the default: .NET
/// dictionaries on the heap) or <see cref="OnDisk"/> (an embedded RocksDB per job run, for state larger than memory).
/// Either way a checkpoint holds the same thing, every state's [key, value] pairs as JSON, so a job can restore a
/// checkpoint written with the other backend.
/// </summary>
public abstract class StateBackend
{
    private protected StateBackend() { }

    /// <summary>State on the heap (the default).</summary>
    public static StateBackend InMemory { get; } = new InMemoryStateBackend();

    /// <summary>
    /// State in an embedded RocksDB under <paramref name="directory"/> (a folder per job name, emptied when the job
    /// starts: the store is working space, the checkpoint is what lasts). Its memory is bounded by
    /// <paramref name="cacheBytes"/> for the block cache plus half as much again for write buffers.
    /// </summary>
    public static StateBackend OnDisk(string directory, long cacheBytes = DiskStateBackend.DefaultCacheBytes) =>
        new DiskStateBackend(directory, cacheBytes);

    /// <summary>The backend of one run of a job: what its keyed operators take their stores from; disposed when the run ends.</summary>
    internal abstract JobStateBackend Open(string jobName);

    internal virtual void Validate() { }
}

/// <summary>One run's state backend: a keyed store per keyed operator and task.</summary>
internal abstract class JobStateBackend : IDisposable
{
    /// <param name="operatorId">The operator's id in the job (its place in the job's definition).</param>
    /// <param name="subtask">Which task of the operator (stores of different tasks never share keys).</param>
    /// <param name="now">The task's clock (ms), for state with a time to live.</param>
    public abstract IKeyedStateStore<TKey> CreateKeyedStore<TKey>(string operatorId, int subtask, Func<long> now) where TKey : notnull;

    public virtual void Dispose() { }
}

/// <summary>The keyed state of one operator in one task, as its operator drives it: the current key, snapshot, restore.</summary>
internal interface IKeyedStateStore<TKey> : IKeyedStateProvider where TKey : notnull
{
    /// <summary>The key every state handle reads and writes at; set before the user's function is called.</summary>
    TKey CurrentKey { get; set; }

    /// <summary>
    /// Every state's [key, value] pairs, by name, in the checkpoint's format (the same for every backend), read as
    /// they are enumerated: a snapshot written to a file never holds them all.
    /// </summary>
    IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> SnapshotStates();

    /// <summary>
    /// For state larger than memory: the states and timers as they are now, captured for a snapshot that a checkpoint
    /// streams into a state file of the task's own off the task's thread while the task goes on; null when the store's
    /// snapshot is held in the checkpoint (state on the heap).
    /// </summary>
    IStateCapture? CaptureForFile();

    /// <summary>A new queue for the operator's timers of one time domain (<paramref name="domain"/>: "event" or "processing").</summary>
    Time.ITimerQueue<TKey> CreateTimerQueue(string domain);

    /// <summary>
    /// Takes the entries (state name, [key, value]) of <paramref name="keyOwned"/> keys, from the snapshots of every task
    /// of the run that wrote them, read as enumerated.
    /// </summary>
    void Restore(IEnumerable<(string Name, JsonElement[] Entry)> entries, Func<TKey, bool> keyOwned);
}

/// <summary>A store's snapshot held whole: what a checkpoint file holds for state on the heap.</summary>
internal static class KeyedStateSnapshots
{
    public static Dictionary<string, List<JsonElement[]>> Snapshot<TKey>(this IKeyedStateStore<TKey> store) where TKey : notnull =>
        Hold(store.SnapshotStates());

    /// <summary>States read as enumerated (<see cref="IKeyedStateStore{TKey}.SnapshotStates"/>, and what an operator adds to them) held whole.</summary>
    public static Dictionary<string, List<JsonElement[]>> Hold(IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> states) =>
        states.ToDictionary(s => s.Name, s => s.Entries.ToList(), StringComparer.Ordinal);

    public static void Restore<TKey>(this IKeyedStateStore<TKey> store, IEnumerable<Dictionary<string, List<JsonElement[]>>> snapshots,
        Func<TKey, bool> keyOwned) where TKey : notnull =>
        store.Restore(Entries(snapshots), keyOwned);

    public static IEnumerable<(string Name, JsonElement[] Entry)> Entries(IEnumerable<Dictionary<string, List<JsonElement[]>>> snapshots) =>
        snapshots.SelectMany(snapshot => snapshot.SelectMany(state => state.Value.Select(entry => (state.Key, entry))));
}

internal sealed class InMemoryStateBackend : StateBackend
{
    internal override JobStateBackend Open(string jobName) => new Run();

    private sealed class Run : JobStateBackend
    {
        public override IKeyedStateStore<TKey> CreateKeyedStore<TKey>(string operatorId, int subtask, Func<long> now) => new KeyedStateStore<TKey>(now);
    }
}
