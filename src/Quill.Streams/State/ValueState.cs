namespace Quill.Streams.State;

internal sealed class ValueState<TKey, T>(KeyedStateStore<TKey> store) : IValueState<T>, IKeyedState where TKey : notnull
{
    private readonly Dictionary<TKey, T> _values = [];

    public int KeyCount => _values.Count;
    public bool HasValue => _values.ContainsKey(store.CurrentKey);

    public T? Value
    {
        get => _values.TryGetValue(store.CurrentKey, out var value) ? value : default;
        set => _values[store.CurrentKey] = value!;
    }

    public void Clear() => _values.Remove(store.CurrentKey);
}
