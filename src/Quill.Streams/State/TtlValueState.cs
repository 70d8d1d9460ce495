using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

/// <summary>A value state whose values expire (<see cref="StateTtlConfig"/>): an expired value reads as none and is removed.</summary>
internal sealed class TtlValueState<TKey, T>(KeyedStateStore<TKey> store, StateTtlConfig ttl) : IValueState<T>, IKeyedState<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Stamped<T>> _values = [];

    public int KeyCount => _values.Count;
    public bool HasValue => TryRead(out _);

    public T? Value
    {
        get => TryRead(out var value) ? value : default;
        set => _values[store.CurrentKey] = new Stamped<T>(value!, store.Now);
    }

    private bool TryRead(out T value)
    {
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

    public void Clear() => _values.Remove(store.CurrentKey);

    public IEnumerable<JsonElement[]> Snapshot()
    {
        long now = store.Now;
        return _values.Where(e => !ttl.IsExpired(e.Value.At, now)).Select(e => new[] { StateJson.Write(e.Key), StateJson.Write(e.Value) });
    }

    public void Restore(TKey key, JsonElement value) => _values[key] = StateJson.Read<Stamped<T>>(value);
}
