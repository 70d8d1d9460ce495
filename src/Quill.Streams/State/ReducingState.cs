namespace Quill.Streams.State;

internal sealed class ReducingState<TKey, T>(KeyedStateStore<TKey> store, Func<T, T, T> reduce) : IReducingState<T>, IKeyedState
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
}
