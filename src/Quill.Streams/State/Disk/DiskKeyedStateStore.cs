using System.Text.Json;
using Quill.Streams.Checkpoints;
using RocksDbSharp;

namespace Quill.Streams.State.Disk;

/// <summary>
/// The keyed state of one operator in one task, in the run's RocksDB (<see cref="DiskStateBackend"/>): the same
/// contract as the in-memory <see cref="KeyedStateStore{TKey}"/>, each read and write going to the database. Only the
/// task's thread touches it. A snapshot is a full scan of this operator's and task's entries into the checkpoint's
/// JSON form, streamed into a state file of its own (<see cref="StateFiles"/>; not incremental); a restore writes the owned keys' entries into the database. Entries of states not
/// registered yet wait in the database under their own prefix until the state is registered, when they are converted.
/// </summary>
internal sealed class DiskKeyedStateStore<TKey>(DiskStateDb db, string operatorId, int subtask, Func<long> now)
    : IKeyedStateStore<TKey> where TKey : notnull
{
    private readonly Dictionary<string, IDiskState> _states = new(StringComparer.Ordinal);
    /// <summary>Names of states with restored entries waiting (the entries are in the database).</summary>
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private TKey? _currentKey;
    private byte[]? _currentKeyJson;

    public DiskStateDb Db { get; } = db;

    public TKey CurrentKey
    {
        get => _currentKeyJson is not null ? _currentKey! : throw new InvalidOperationException("keyed state is only available while a record or a timer is processed");
        set
        {
            _currentKey = value;
            _currentKeyJson = DiskStateKeys.Json(value);
        }
    }

    /// <summary>The current key as JSON, the middle part of every entry's database key.</summary>
    public byte[] CurrentKeyJson => _currentKeyJson ?? throw new InvalidOperationException("keyed state is only available while a record or a timer is processed");

    public long Now => now();

    public byte[] PrefixOf(string name, byte tag = DiskStateKeys.StateTag) => DiskStateKeys.Prefix(tag, operatorId, subtask, name);

    public byte[]? Get(byte[] key) => Db.Db.Get(key);
    public void Put(byte[] key, byte[] value) => Db.Db.Put(key, value, null, Db.Write);
    public void Remove(byte[] key) => Db.Db.Remove(key, null, Db.Write);

    /// <summary>
    /// Every entry whose database key starts with <paramref name="prefix"/>, in key order (as of <paramref name="read"/>'s
    /// snapshot, if it has one), from the first at or after <paramref name="from"/> if given.
    /// </summary>
    public IEnumerable<(byte[] Key, byte[] Value)> Scan(byte[] prefix, ReadOptions? read = null, byte[]? from = null)
    {
        using var iterator = Db.Db.NewIterator(null, read ?? new ReadOptions().SetFillCache(false));
        for (iterator.Seek(from ?? prefix); iterator.Valid() && iterator.GetKeySpan().StartsWith(prefix); iterator.Next())
            yield return (iterator.Key(), iterator.Value());
    }

    /// <summary>How many database entries state <paramref name="name"/> has (a map's: one per map entry; expired ones not cleaned up yet included).</summary>
    internal int EntryCount(string name) => Scan(PrefixOf(name)).Count();

    /// <summary>Removes every entry under <paramref name="prefix"/>.</summary>
    public void RemoveAll(byte[] prefix)
    {
        using var batch = new WriteBatch();
        foreach (var (key, _) in Scan(prefix)) batch.Delete(key);
        if (batch.Count() > 0) Db.Db.Write(batch, Db.Write);
    }

    /// <summary>Timers in the database too: with this backend nothing grows on the heap with the number of keys.</summary>
    public Time.ITimerQueue<TKey> CreateTimerQueue(string domain) => new DiskTimerQueue<TKey>(this, domain);

    /// <summary>State larger than memory: a checkpoint streams it into a file of its own, from a RocksDB snapshot, instead of holding it.</summary>
    public IStateCapture? CaptureForFile() => new DiskStateCapture<TKey>(this);

    public IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> SnapshotStates() => StatesAt(null, Now);

    /// <summary>
    /// Every state's entries as of <paramref name="read"/>'s snapshot (or the live database), <paramref name="now"/>
    /// deciding what has expired. Which states there are is taken now, so the entries may be read on another thread
    /// while this task registers more.
    /// </summary>
    internal IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> StatesAt(ReadOptions? read, long now)
    {
        var states = _states.ToArray();
        string[] pending = [.. _pending];
        return Read();

        IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> Read()
        {
            foreach (var (name, state) in states) yield return (name, state.Snapshot(read, now));
            foreach (var name in pending)
            {
                var prefix = PrefixOf(name, DiskStateKeys.PendingTag);
                yield return (name, Scan(prefix, read).Select(e => new[] { DiskStateKeys.Element(DiskStateKeys.Split(e.Key, prefix.Length).Key.Span), DiskStateKeys.Element(e.Value) }));
            }
        }
    }

    public void Restore(IEnumerable<(string Name, JsonElement[] Entry)> entries, Func<TKey, bool> keyOwned)
    {
        foreach (var (name, entry) in entries)
        {
            var key = StateJson.Read<TKey>(entry[0]);
            if (!keyOwned(key)) continue;
            var keyJson = DiskStateKeys.Json(key);
            if (_states.TryGetValue(name, out var state)) state.Restore(keyJson, entry[1]);
            else
            {
                Put(DiskStateKeys.Entry(PrefixOf(name, DiskStateKeys.PendingTag), keyJson), DiskStateKeys.Json(entry[1]));
                _pending.Add(name);
            }
        }
    }

    public IValueState<T> GetValueState<T>(string name) => Register(name, () => new DiskValueState<TKey, T>(this, name));
    public IListState<T> GetListState<T>(string name) => Register(name, () => new DiskListState<TKey, T>(this, name));
    public IMapState<TMapKey, TMapValue> GetMapState<TMapKey, TMapValue>(string name) where TMapKey : notnull =>
        Register(name, () => new DiskMapState<TKey, TMapKey, TMapValue>(this, name));
    public IValueState<T> GetValueState<T>(string name, StateTtlConfig ttl) => Register(name, () => new DiskTtlValueState<TKey, T>(this, name, ttl));
    public IMapState<TMapKey, TMapValue> GetMapState<TMapKey, TMapValue>(string name, StateTtlConfig ttl) where TMapKey : notnull =>
        Register(name, () => new DiskTtlMapState<TKey, TMapKey, TMapValue>(this, name, ttl));
    public IReducingState<T> GetReducingState<T>(string name, Func<T, T, T> reduce) => Register(name, () => new DiskReducingState<TKey, T>(this, name, reduce));
    public IListState<T> GetListState<T>(string name, StateTtlConfig ttl) => Register(name, () => new DiskTtlListState<TKey, T>(this, name, ttl));
    public IReducingState<T> GetReducingState<T>(string name, Func<T, T, T> reduce, StateTtlConfig ttl) =>
        Register(name, () => new DiskTtlReducingState<TKey, T>(this, name, ttl, reduce));

    /// <summary>Asking again for a name gives the same state, if the kind and type match; restored entries waiting for it are converted now.</summary>
    private TState Register<TState>(string name, Func<TState> create) where TState : IDiskState
    {
        if (!_states.TryGetValue(name, out var existing))
        {
            var state = create();
            _states.Add(name, state);
            if (_pending.Remove(name))
            {
                var prefix = PrefixOf(name, DiskStateKeys.PendingTag);
                foreach (var (key, value) in Scan(prefix))
                    state.Restore(DiskStateKeys.Split(key, prefix.Length).Key.ToArray(), DiskStateKeys.Element(value));
                RemoveAll(prefix);
            }
            return state;
        }
        return existing is TState same ? same
            : throw new InvalidOperationException($"keyed state '{name}' is already registered as a different kind or type");
    }
}

/// <summary>A state of a <see cref="DiskKeyedStateStore{TKey}"/>, seen without its types.</summary>
internal interface IDiskState
{
    /// <summary>
    /// Every key's value as [key, value] JSON, as the in-memory state of the same kind writes it: as of
    /// <paramref name="read"/>'s snapshot (null: the live database), leaving out what has expired at <paramref name="now"/>.
    /// </summary>
    IEnumerable<JsonElement[]> Snapshot(ReadOptions? read, long now);

    /// <summary>Writes one key's value, in the checkpoint's form, into the database.</summary>
    void Restore(byte[] keyJson, JsonElement value);
}
