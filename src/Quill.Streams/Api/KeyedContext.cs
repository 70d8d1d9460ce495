using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>
/// What a keyed function sees while it handles one record or timer: the key, the timestamp (the record's, or the
/// timer's time), which clock fired the timer, the timers, the key's state, and where outputs go.
/// </summary>
public sealed class KeyedContext<TKey, TOut> where TKey : notnull
{
    private readonly List<(TOut Value, long Timestamp)> _emitted = [];

    internal KeyedContext(ITimerService timers, IKeyedStateProvider state)
    {
        Timers = timers;
        State = state;
    }

    public TKey Key { get; private set; } = default!;
    public long Timestamp { get; private set; }
    /// <summary>The domain of the timer being handled; null while a record is handled.</summary>
    public TimeDomain? TimerDomain { get; private set; }
    public ITimerService Timers { get; }
    /// <summary>The key's state (the same handles a function can take in its Open).</summary>
    public IKeyedStateProvider State { get; }

    /// <summary>Emits <paramref name="value"/> with the current timestamp.</summary>
    public void Emit(TOut value) => _emitted.Add((value, Timestamp));

    public void Emit(TOut value, long timestamp) => _emitted.Add((value, timestamp));

    internal void Enter(TKey key, long timestamp, TimeDomain? timerDomain)
    {
        Key = key;
        Timestamp = timestamp;
        TimerDomain = timerDomain;
    }

    internal List<(TOut Value, long Timestamp)> Emitted => _emitted;
}
