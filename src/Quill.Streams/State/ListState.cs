using System.Text.Json;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.State;

internal sealed class ListState<TKey, T>(KeyedStateStore<TKey> store) : IListState<T>, IKeyedState<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, List<T>> _lists = [];

    public int KeyCount => _lists.Count;

    public IReadOnlyList<T> Get() => _lists.TryGetValue(store.CurrentKey, out var list) ? list : [];

    public void Add(T value)
    {
        var key = store.CurrentKey;
        if (!_lists.TryGetValue(key, out var list)) _lists[key] = list = [];
        list.Add(value);
    }

    public void Update(IEnumerable<T> values)
    {
        List<T> list = [.. values];
        if (list.Count == 0) Clear();
        else _lists[store.CurrentKey] = list;
    }

    public void Clear() => _lists.Remove(store.CurrentKey);

    public IEnumerable<JsonElement[]> Snapshot() => _lists.Select(e => new[] { StateJson.Write(e.Key), StateJson.Write(e.Value) });
    public void Restore(TKey key, JsonElement value) => _lists[key] = StateJson.Read<List<T>>(value);
}
