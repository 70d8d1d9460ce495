namespace Quill.Streams.State;

/// <summary>
/// Where a keyed function gets its state (in its Open). Every handle is scoped to the key of the record or timer being
/// processed: the same handle reads and writes a different value for each key. Asking
/// again for the same name and type gives the same state.
/// </summary>
public interface IKeyedStateProvider
{
    IValueState<T> GetValueState<T>(string name);
    IListState<T> GetListState<T>(string name);
    IMapState<TMapKey, TMapValue> GetMapState<TMapKey, TMapValue>(string name) where TMapKey : notnull;
    /// <summary>A value state whose values expire <paramref name="ttl"/> after they were written (<see cref="StateTtlConfig"/>).</summary>
    IValueState<T> GetValueState<T>(string name, StateTtlConfig ttl);
    /// <summary>A map state whose entries each expire <paramref name="ttl"/> after they were written.</summary>
    IMapState<TMapKey, TMapValue> GetMapState<TMapKey, TMapValue>(string name, StateTtlConfig ttl) where TMapKey : notnull;
    /// <summary>A value that every <see cref="IReducingState{T}.Add"/> folds into with <paramref name="reduce"/>.</summary>
    IReducingState<T> GetReducingState<T>(string name, Func<T, T, T> reduce);
    /// <summary>A list state whose elements each expire <paramref name="ttl"/> after they were added (or the list updated).</summary>
    IListState<T> GetListState<T>(string name, StateTtlConfig ttl);
    /// <summary>A reducing state whose value expires <paramref name="ttl"/> after the last <see cref="IReducingState{T}.Add"/>; adding to an expired value starts anew.</summary>
    IReducingState<T> GetReducingState<T>(string name, Func<T, T, T> reduce, StateTtlConfig ttl);
}

/// <summary>One value per key.</summary>
public interface IValueState<T>
{
    bool HasValue { get; }
    /// <summary>The key's value; default when it has none. Setting it stores it.</summary>
    T? Value { get; set; }
    void Clear();
}

/// <summary>A list per key (empty when the key has none).</summary>
public interface IListState<T>
{
    IReadOnlyList<T> Get();
    void Add(T value);
    void Update(IEnumerable<T> values);
    void Clear();
}

/// <summary>A map per key.</summary>
public interface IMapState<TMapKey, TMapValue> where TMapKey : notnull
{
    bool TryGetValue(TMapKey key, out TMapValue value);
    void Put(TMapKey key, TMapValue value);
    bool Remove(TMapKey key);
    IReadOnlyDictionary<TMapKey, TMapValue> Entries { get; }
    void Clear();
}

/// <summary>A reduced value per key.</summary>
public interface IReducingState<T>
{
    bool HasValue { get; }
    T? Value { get; }
    void Add(T value);
    void Clear();
}
