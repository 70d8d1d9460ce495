using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

/// <summary>
/// The keyed state of one operator in one task: every registered state by name, each holding a value per key, read and
/// written at <see cref="CurrentKey"/>, which the operator sets before it calls the user's function. Only the task's
/// thread touches it. A checkpoint snapshots every state by name (its [key, value] pairs); restoring keeps the keys this
/// task owns, and fills each state when it is registered (a function may register its states only on first use).
/// </summary>
/// <param name="now">The task's clock (ms), for state with a time to live; the system clock if null.</param>
internal sealed class KeyedStateStore<TKey>(Func<long>? now = null) : IKeyedStateStore<TKey> where TKey : notnull
{
    private readonly Func<long> _now = now ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    private readonly Dictionary<string, IKeyedState<TKey>> _states = new(StringComparer.Ordinal);
    /// <summary>Restored entries of states not registered yet, by state name.</summary>
    private readonly Dictionary<string, List<(TKey Key, JsonElement Value)>> _restored = new(StringComparer.Ordinal);
    private TKey? _currentKey;
    private bool _hasKey;

    public TKey CurrentKey
    {
        get => _hasKey ? _currentKey! : throw new InvalidOperationException("keyed state is only available while a record or a timer is processed");
        set
        {
            _currentKey = value;
            _hasKey = true;
        }
    }

    /// <summary>Processing time, for state with a time to live.</summary>
    public long Now => _now();

    /// <summary>Every state's [key, value] pairs, by name; restored ones not registered yet included.</summary>
    public Time.ITimerQueue<TKey> CreateTimerQueue(string domain) => new Time.TimerQueue<TKey>();

    /// <summary>On the heap, a snapshot is held in the checkpoint file: the state is in memory anyway.</summary>
    public IStateCapture? CaptureForFile() => null;

    public IEnumerable<(string Name, IEnumerable<JsonElement[]> Entries)> SnapshotStates()
    {
        foreach (var (name, state) in _states) yield return (name, state.Snapshot());
        foreach (var (name, entries) in _restored) yield return (name, entries.Select(e => new[] { StateJson.Write(e.Key), e.Value }));
    }

    public void Restore(IEnumerable<(string Name, JsonElement[] Entry)> entries, Func<TKey, bool> keyOwned)
    {
        foreach (var (name, entry) in entries)
        {
            var key = StateJson.Read<TKey>(entry[0]);
            if (!keyOwned(key)) continue;
            if (_states.TryGetValue(name, out var state)) state.Restore(key, entry[1]);
            else
            {
                if (!_restored.TryGetValue(name, out var pending)) _restored[name] = pending = [];
                pending.Add((key, entry[1]));
            }
        }
    }

    public IValueState<T> GetValueState<T>(string name) => Register(name, () => new ValueState<TKey, T>(this));
    public IListState<T> GetListState<T>(string name) => Register(name, () => new ListState<TKey, T>(this));
    public IMapState<TMapKey, TMapValue> GetMapState<TMapKey, TMapValue>(string name) where TMapKey : notnull =>
        Register(name, () => new MapState<TKey, TMapKey, TMapValue>(this));
    public IValueState<T> GetValueState<T>(string name, StateTtlConfig ttl) => Register(name, () => new TtlValueState<TKey, T>(this, ttl));
    public IMapState<TMapKey, TMapValue> GetMapState<TMapKey, TMapValue>(string name, StateTtlConfig ttl) where TMapKey : notnull =>
        Register(name, () => new TtlMapState<TKey, TMapKey, TMapValue>(this, ttl));
    public IReducingState<T> GetReducingState<T>(string name, Func<T, T, T> reduce) => Register(name, () => new ReducingState<TKey, T>(this, reduce));
    public IListState<T> GetListState<T>(string name, StateTtlConfig ttl) => Register(name, () => new TtlListState<TKey, T>(this, ttl));
    public IReducingState<T> GetReducingState<T>(string name, Func<T, T, T> reduce, StateTtlConfig ttl) =>
        Register(name, () => new TtlReducingState<TKey, T>(this, ttl, reduce));

    /// <summary>How many keys state <paramref name="name"/> holds (expired ones not cleaned up yet included).</summary>
    internal int KeyCount(string name) => _states[name].KeyCount;

    /// <summary>Asking again for a name gives the same state (so a function may ask on every call), if the type matches.</summary>
    private TState Register<TState>(string name, Func<TState> create) where TState : IKeyedState<TKey>
    {
        if (!_states.TryGetValue(name, out var existing))
        {
            var state = create();
            _states.Add(name, state);
            if (_restored.Remove(name, out var entries))
                foreach (var (key, value) in entries) state.Restore(key, value);
            return state;
        }
        return existing is TState same ? same
            : throw new InvalidOperationException($"keyed state '{name}' is already registered as a different kind or type");
    }
}

/// <summary>A state of a <see cref="KeyedStateStore{TKey}"/>, seen without its value type.</summary>
internal interface IKeyedState<TKey>
{
    /// <summary>How many keys have a value.</summary>
    int KeyCount { get; }

    /// <summary>Every key's value as [key, value] JSON.</summary>
    IEnumerable<JsonElement[]> Snapshot();

    void Restore(TKey key, JsonElement value);
}
