using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

/// <summary>
/// One value per key with a time to live (<see cref="StateTtlConfig"/>), what the value and reducing states with one
/// share: an expired value reads as none and is removed.
/// </summary>
internal abstract class TtlSingleValueState<TKey, T>(KeyedStateStore<TKey> store, StateTtlConfig ttl) : IKeyedState<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Stamped<T>> _values = [];
    private readonly TtlCleanup<TKey, Stamped<T>> _cleanup = new((stamped, now) => ttl.IsExpired(stamped.At, now));

    public int KeyCount => _values.Count;
    public bool HasValue => TryRead(out _);

    private void CleanUp()
    {
        if (_cleanup.Due()) _cleanup.Run(_values, store.Now);
    }

    protected bool TryRead(out T value)
    {
        CleanUp();
        var key = store.CurrentKey;
        if (_values.TryGetValue(key, out var stamped))
        {
            long now = store.Now;
            if (!ttl.IsExpired(stamped.At, now))
            {
                if (ttl.UpdateType == StateTtlUpdateType.OnReadAndWrite) _values[key] = stamped with { At = now };
                value = stamped.Value;
                return true;
            }
            _values.Remove(key);
        }
        value = default!;
        return false;
    }

    protected void Write(T value)
    {
        CleanUp();
        _values[store.CurrentKey] = new Stamped<T>(value, store.Now);
    }

    public void Clear() => _values.Remove(store.CurrentKey);

    public IEnumerable<JsonElement[]> Snapshot()
    {
        long now = store.Now;
        return _values.Where(e => !ttl.IsExpired(e.Value.At, now)).Select(e => new[] { StateJson.Write(e.Key), StateJson.Write(e.Value) });
    }

    public void Restore(TKey key, JsonElement value) => _values[key] = StateJson.Read<Stamped<T>>(value);
}

/// <summary>A value state whose values expire.</summary>
internal sealed class TtlValueState<TKey, T>(KeyedStateStore<TKey> store, StateTtlConfig ttl)
    : TtlSingleValueState<TKey, T>(store, ttl), IValueState<T> where TKey : notnull
{
    public T? Value
    {
        get => TryRead(out var value) ? value : default;
        set => Write(value!);
    }
}

/// <summary>A reducing state whose reduced value expires as a whole (as Flink's): adding to an expired value starts a new one, and every add is a write.</summary>
internal sealed class TtlReducingState<TKey, T>(KeyedStateStore<TKey> store, StateTtlConfig ttl, Func<T, T, T> reduce)
    : TtlSingleValueState<TKey, T>(store, ttl), IReducingState<T> where TKey : notnull
{
    public T? Value => TryRead(out var value) ? value : default;

    public void Add(T value) => Write(TryRead(out var current) ? reduce(current, value) : value);
}
