using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

internal sealed class MapState<TKey, TMapKey, TMapValue>(KeyedStateStore<TKey> store) : IMapState<TMapKey, TMapValue>, IKeyedState<TKey>
    where TKey : notnull where TMapKey : notnull
{
    private static readonly Dictionary<TMapKey, TMapValue> Empty = [];
    private readonly Dictionary<TKey, Dictionary<TMapKey, TMapValue>> _maps = [];

    public int KeyCount => _maps.Count;

    public IReadOnlyDictionary<TMapKey, TMapValue> Entries => _maps.TryGetValue(store.CurrentKey, out var map) ? map : Empty;

    public bool TryGetValue(TMapKey key, out TMapValue value)
    {
        value = default!;
        return _maps.TryGetValue(store.CurrentKey, out var map) && map.TryGetValue(key, out value!);
    }

    public void Put(TMapKey key, TMapValue value)
    {
        var current = store.CurrentKey;
        if (!_maps.TryGetValue(current, out var map)) _maps[current] = map = [];
        map[key] = value;
    }

    public bool Remove(TMapKey key)
    {
        var current = store.CurrentKey;
        if (!_maps.TryGetValue(current, out var map) || !map.Remove(key)) return false;
        if (map.Count == 0) _maps.Remove(current);
        return true;
    }

    public void Clear() => _maps.Remove(store.CurrentKey);

    /// <summary>A map's value is its entries as [key, value] pairs (JSON objects only take string keys).</summary>
    public IEnumerable<JsonElement[]> Snapshot() =>
        _maps.Select(e => new[] { StateJson.Write(e.Key), StateJson.Write(e.Value.Select(p => new[] { StateJson.Write(p.Key), StateJson.Write(p.Value) }).ToList()) });

    public void Restore(TKey key, JsonElement value) =>
        _maps[key] = StateJson.Read<List<JsonElement[]>>(value).ToDictionary(p => StateJson.Read<TMapKey>(p[0]), p => StateJson.Read<TMapValue>(p[1]));
}
