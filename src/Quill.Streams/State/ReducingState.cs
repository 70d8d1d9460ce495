using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

internal sealed class ReducingState<TKey, T>(KeyedStateStore<TKey> store, Func<T, T, T> reduce) : IReducingState<T>, IKeyedState<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, T> _values = [];

    public int KeyCount => _values.Count;
    public bool HasValue => _values.ContainsKey(store.CurrentKey);
    public T? Value => _values.TryGetValue(store.CurrentKey, out var value) ? value : default;

    public void Add(T value)
    {
        var key = store.CurrentKey;
        _values[key] = _values.TryGetValue(key, out var current) ? reduce(current, value) : value;
    }

    public void Clear() => _values.Remove(store.CurrentKey);

    public IEnumerable<JsonElement[]> Snapshot() => _values.Select(e => new[] { StateJson.Write(e.Key), StateJson.Write(e.Value) });
    public void Restore(TKey key, JsonElement value) => _values[key] = StateJson.Read<T>(value);
}
