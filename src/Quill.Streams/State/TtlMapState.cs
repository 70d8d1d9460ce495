using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

/// <summary>A map state whose entries expire one by one (<see cref="StateTtlConfig"/>); expired entries are removed when the key's map is read.</summary>
internal sealed class TtlMapState<TKey, TMapKey, TMapValue>(KeyedStateStore<TKey> store, StateTtlConfig ttl)
    : IMapState<TMapKey, TMapValue>, IKeyedState<TKey> where TKey : notnull where TMapKey : notnull
{
    private readonly Dictionary<TKey, Dictionary<TMapKey, Stamped<TMapValue>>> _maps = [];
    private readonly TtlCleanup<TKey, Dictionary<TMapKey, Stamped<TMapValue>>> _cleanup = new((map, now) =>
    {
        foreach (var expired in map.Where(e => ttl.IsExpired(e.Value.At, now)).Select(e => e.Key).ToList()) map.Remove(expired);
        return map.Count == 0;
    });

    public int KeyCount => _maps.Count;

    /// <summary>The key's live entries (a copy: reading purges the expired ones).</summary>
    public IReadOnlyDictionary<TMapKey, TMapValue> Entries
    {
        get
        {
            var map = LiveMap();
            if (map is null) return new Dictionary<TMapKey, TMapValue>();
            long now = store.Now;
            if (ttl.UpdateType == StateTtlUpdateType.OnReadAndWrite)
                foreach (var entryKey in map.Keys.ToList()) map[entryKey] = map[entryKey] with { At = now };
            return map.ToDictionary(e => e.Key, e => e.Value.Value);
        }
    }

    /// <summary>The current key's map with its expired entries removed (null if none is left).</summary>
    private Dictionary<TMapKey, Stamped<TMapValue>>? LiveMap()
    {
        CleanUp();
        var key = store.CurrentKey;
        if (!_maps.TryGetValue(key, out var map)) return null;
        long now = store.Now;
        foreach (var expired in map.Where(e => ttl.IsExpired(e.Value.At, now)).Select(e => e.Key).ToList()) map.Remove(expired);
        if (map.Count > 0) return map;
        _maps.Remove(key);
        return null;
    }

    public bool TryGetValue(TMapKey key, out TMapValue value)
    {
        value = default!;
        var map = LiveMap();
        if (map is null || !map.TryGetValue(key, out var stamped)) return false;
        if (ttl.UpdateType == StateTtlUpdateType.OnReadAndWrite) map[key] = stamped with { At = store.Now };
        value = stamped.Value;
        return true;
    }

    /// <summary>Drops the expired entries of the keys the background cleanup checks, and the keys left with none.</summary>
    private void CleanUp()
    {
        if (_cleanup.Due()) _cleanup.Run(_maps, store.Now);
    }

    public void Put(TMapKey key, TMapValue value)
    {
        CleanUp();
        var current = store.CurrentKey;
        if (!_maps.TryGetValue(current, out var map)) _maps[current] = map = [];
        map[key] = new Stamped<TMapValue>(value, store.Now);
    }

    public bool Remove(TMapKey key)
    {
        var map = LiveMap();
        if (map is null || !map.Remove(key)) return false;
        if (map.Count == 0) _maps.Remove(store.CurrentKey);
        return true;
    }

    public void Clear() => _maps.Remove(store.CurrentKey);

    /// <summary>As <see cref="MapState{TKey,TMapKey,TMapValue}"/>'s, each value with its time; expired entries (and keys left empty) left out.</summary>
    public IEnumerable<JsonElement[]> Snapshot()
    {
        long now = store.Now;
        foreach (var (key, map) in _maps)
        {
            var live = map.Where(e => !ttl.IsExpired(e.Value.At, now)).Select(e => new[] { StateJson.Write(e.Key), StateJson.Write(e.Value) }).ToList();
            if (live.Count > 0) yield return [StateJson.Write(key), StateJson.Write(live)];
        }
    }

    public void Restore(TKey key, JsonElement value) =>
        _maps[key] = StateJson.Read<List<JsonElement[]>>(value).ToDictionary(p => StateJson.Read<TMapKey>(p[0]), p => StateJson.Read<Stamped<TMapValue>>(p[1]));
}
