using Quill.Streams.Runtime;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>
/// What a keyed function sees while it handles one record or timer: the key, the timestamp (the record's, or the
/// timer's time), which clock fired the timer, the timers, the key's state, and where outputs go (the main output, and
/// side outputs by tag).
/// </summary>
public sealed class KeyedContext<TKey, TOut> where TKey : notnull
{
    private readonly List<(TOut Value, long Timestamp)> _emitted = [];
    private readonly IReadOnlyDictionary<string, IStreamControl> _sideOutputs;
    private readonly List<Func<ValueTask>> _sideEmitted = [];

    internal KeyedContext(ITimerService timers, IKeyedStateProvider state, IReadOnlyDictionary<string, IStreamControl> sideOutputs)
    {
        Timers = timers;
        State = state;
        _sideOutputs = sideOutputs;
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

    /// <summary>
    /// Sends <paramref name="value"/> to the side output <paramref name="tag"/> (Flink's ctx.output), with the current
    /// timestamp; read with <see cref="DataStream{T}.GetSideOutput{TSide}"/>. A tag nobody reads drops the value.
    /// </summary>
    public void Output<TSide>(OutputTag<TSide> tag, TSide value) => Output(tag, value, Timestamp);

    public void Output<TSide>(OutputTag<TSide> tag, TSide value, long timestamp)
    {
        if (!_sideOutputs.TryGetValue(tag.Id, out var chain)) return;
        var typed = chain as IStreamInput<TSide>
            ?? throw new InvalidOperationException($"side output '{tag.Id}' is read as another type than {typeof(TSide).Name}");
        _sideEmitted.Add(() => typed.RecordAsync(value, timestamp));
    }

    internal void Enter(TKey key, long timestamp, TimeDomain? timerDomain)
    {
        Key = key;
        Timestamp = timestamp;
        TimerDomain = timerDomain;
    }

    internal List<(TOut Value, long Timestamp)> Emitted => _emitted;

    /// <summary>The side outputs sent since the last push, in order.</summary>
    internal List<Func<ValueTask>> SideEmitted => _sideEmitted;
}
