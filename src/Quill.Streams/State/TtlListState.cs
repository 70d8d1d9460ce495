using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

/// <summary>
/// A list state whose elements expire one by one (<see cref="StateTtlConfig"/>; Flink's list TTL): each element keeps
/// the time it was added (or the list updated, or, with <see cref="StateTtlUpdateType.OnReadAndWrite"/>, read). Reading
/// removes the expired elements; adding drops those at the front of the list, so a list only ever added to stays
/// bounded without being read.
/// </summary>
internal sealed class TtlListState<TKey, T>(KeyedStateStore<TKey> store, StateTtlConfig ttl) : IListState<T>, IKeyedState<TKey>
    where TKey : notnull
{
    private readonly Dictionary<TKey, List<Stamped<T>>> _lists = [];
    private readonly TtlCleanup<TKey, List<Stamped<T>>> _cleanup = new((list, now) =>
    {
        list.RemoveAll(e => ttl.IsExpired(e.At, now));
        return list.Count == 0;
    });

    public int KeyCount => _lists.Count;

    /// <summary>Drops the expired elements of the keys the background cleanup checks, and the keys left with none.</summary>
    private void CleanUp()
    {
        if (_cleanup.Due()) _cleanup.Run(_lists, store.Now);
    }

    public IReadOnlyList<T> Get()
    {
        CleanUp();
        var key = store.CurrentKey;
        if (!_lists.TryGetValue(key, out var list)) return [];
        long now = store.Now;
        list.RemoveAll(e => ttl.IsExpired(e.At, now));
        if (list.Count == 0)
        {
            _lists.Remove(key);
            return [];
        }
        if (ttl.UpdateType == StateTtlUpdateType.OnReadAndWrite)
            for (int i = 0; i < list.Count; i++) list[i] = list[i] with { At = now };
        return list.ConvertAll(e => e.Value);
    }

    public void Add(T value)
    {
        CleanUp();
        var key = store.CurrentKey;
        long now = store.Now;
        if (!_lists.TryGetValue(key, out var list)) _lists[key] = list = [];
        else list.RemoveRange(0, TtlLists.ExpiredAtFront(list, ttl, now));
        list.Add(new Stamped<T>(value, now));
    }

    public void Update(IEnumerable<T> values)
    {
        long now = store.Now;
        List<Stamped<T>> list = [.. values.Select(v => new Stamped<T>(v, now))];
        if (list.Count == 0) Clear();
        else _lists[store.CurrentKey] = list;
    }

    public void Clear() => _lists.Remove(store.CurrentKey);

    /// <summary>[key, [stamped element, ...]] per key; expired elements, and keys left with none, left out.</summary>
    public IEnumerable<JsonElement[]> Snapshot()
    {
        long now = store.Now;
        foreach (var (key, list) in _lists)
        {
            var live = list.Where(e => !ttl.IsExpired(e.At, now)).ToList();
            if (live.Count > 0) yield return [StateJson.Write(key), StateJson.Write(live)];
        }
    }

    public void Restore(TKey key, JsonElement value) => _lists[key] = StateJson.Read<List<Stamped<T>>>(value);
}

internal static class TtlLists
{
    /// <summary>
    /// How many elements at the front of <paramref name="list"/> have expired. Elements are stamped in the order they
    /// are added, so the expired ones are at the front (unless the clock went back, which a full read still cleans up).
    /// </summary>
    public static int ExpiredAtFront<T>(List<Stamped<T>> list, StateTtlConfig ttl, long now)
    {
        int expired = 0;
        while (expired < list.Count && ttl.IsExpired(list[expired].At, now)) expired++;
        return expired;
    }
}
