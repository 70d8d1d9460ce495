namespace Quill.Streams.State;

/// <summary>
/// The keyed state of one operator in one task: every registered state by name, each holding a value per key, read and
/// written at <see cref="CurrentKey"/>, which the operator sets before it calls the user's function. Only the task's
/// thread touches it. A checkpoint will snapshot <see cref="States"/> by name (each state's entries per key).
/// </summary>
internal sealed class KeyedStateStore<TKey> : IKeyedStateProvider where TKey : notnull
{
    private readonly Dictionary<string, IKeyedState> _states = new(StringComparer.Ordinal);
    private TKey? _currentKey;
    private bool _hasKey;

    public TKey CurrentKey
    {
        get => _hasKey ? _currentKey! : throw new InvalidOperationException("keyed state is only available while a record or a timer is processed");
        set
        {
            _currentKey = value;
            _hasKey = true;
        }
    }

    public IReadOnlyDictionary<string, IKeyedState> States => _states;

    public IValueState<T> GetValueState<T>(string name) => Register(name, () => new ValueState<TKey, T>(this));
    public IListState<T> GetListState<T>(string name) => Register(name, () => new ListState<TKey, T>(this));
    public IMapState<TMapKey, TMapValue> GetMapState<TMapKey, TMapValue>(string name) where TMapKey : notnull =>
        Register(name, () => new MapState<TKey, TMapKey, TMapValue>(this));
    public IReducingState<T> GetReducingState<T>(string name, Func<T, T, T> reduce) => Register(name, () => new ReducingState<TKey, T>(this, reduce));

    /// <summary>Asking again for a name gives the same state (so a function may ask on every call), if the type matches.</summary>
    private TState Register<TState>(string name, Func<TState> create) where TState : IKeyedState
    {
        if (!_states.TryGetValue(name, out var existing))
        {
            var state = create();
            _states.Add(name, state);
            return state;
        }
        return existing is TState same ? same
            : throw new InvalidOperationException($"keyed state '{name}' is already registered as a different kind or type");
    }
}

/// <summary>A state of a <see cref="KeyedStateStore{TKey}"/>, seen without its types.</summary>
internal interface IKeyedState
{
    /// <summary>How many keys have a value.</summary>
    int KeyCount { get; }
}
