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

    /// <summary>Every state's [key, value] pairs, by name, in the checkpoint's format (the same for every backend).</summary>
    Dictionary<string, List<JsonElement[]>> Snapshot();

    /// <summary>A new queue for the operator's timers of one time domain (<paramref name="domain"/>: "event" or "processing").</summary>
    Time.ITimerQueue<TKey> CreateTimerQueue(string domain);

    /// <summary>Takes the entries of <paramref name="keyOwned"/> keys from the snapshots (one per task of the run that wrote them).</summary>
    void Restore(IEnumerable<Dictionary<string, List<JsonElement[]>>> snapshots, Func<TKey, bool> keyOwned);
}

internal sealed class InMemoryStateBackend : StateBackend
{
    internal override JobStateBackend Open(string jobName) => new Run();

    private sealed class Run : JobStateBackend
    {
        public override IKeyedStateStore<TKey> CreateKeyedStore<TKey>(string operatorId, int subtask, Func<long> now) => new KeyedStateStore<TKey>(now);
    }
}
