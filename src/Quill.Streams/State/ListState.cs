namespace Quill.Streams.State;

internal sealed class ListState<TKey, T>(KeyedStateStore<TKey> store) : IListState<T>, IKeyedState where TKey : notnull
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
}
