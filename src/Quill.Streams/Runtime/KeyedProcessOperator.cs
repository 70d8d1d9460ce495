using Quill.Streams.Api;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// Runs a <see cref="KeyedProcessFunction{TKey,TIn,TOut}"/> in a keyed task: sets the key for state and timers, calls
/// the function, pushes what it emitted. Event-time timers fire when a watermark reaches them, before the watermark
/// goes on (so their outputs are not late for the next operator); processing-time timers fire on the task's ticks.
/// </summary>
internal sealed class KeyedProcessOperator<TKey, TIn, TOut> : ChainedOperator<TIn, TOut>, ITimerService where TKey : notnull
{
    private readonly KeyedProcessFunction<TKey, TIn, TOut> _function;
    private readonly Func<TIn, TKey> _keySelector;
    private readonly IProcessingTimeScheduler _clock;
    private readonly KeyedStateStore<TKey> _state = new();
    private readonly TimerQueue<TKey> _eventTimers = new();
    private readonly TimerQueue<TKey> _processingTimers = new();
    private readonly KeyedContext<TKey, TOut> _context;

    public KeyedProcessOperator(KeyedProcessFunction<TKey, TIn, TOut> function, Func<TIn, TKey> keySelector,
        IProcessingTimeScheduler clock, IStreamInput<TOut> next) : base(next)
    {
        _function = function;
        _keySelector = keySelector;
        _clock = clock;
        _context = new KeyedContext<TKey, TOut>(this, _state);
        _function.Open(_state);
    }

    internal KeyedStateStore<TKey> State => _state;

    public long CurrentProcessingTime => _clock.Now;
    public long CurrentWatermark { get; private set; } = long.MinValue;

    public void RegisterEventTimeTimer(long time) => _eventTimers.Register(_state.CurrentKey, time);
    public void DeleteEventTimeTimer(long time) => _eventTimers.Delete(_state.CurrentKey, time);

    public void RegisterProcessingTimeTimer(long time)
    {
        _processingTimers.Register(_state.CurrentKey, time);
        _clock.RequestTick(time);
    }

    public void DeleteProcessingTimeTimer(long time) => _processingTimers.Delete(_state.CurrentKey, time);

    public override async ValueTask RecordAsync(TIn value, long timestamp)
    {
        var key = _keySelector(value);
        _state.CurrentKey = key;
        _context.Enter(key, timestamp, null);
        _function.ProcessElement(value, _context);
        await PushEmittedAsync();
    }

    public override async ValueTask WatermarkAsync(long watermark)
    {
        CurrentWatermark = watermark;
        while (_eventTimers.TryTakeDue(watermark, out var key, out long time)) await FireAsync(key, time, TimeDomain.EventTime);
        await Next.WatermarkAsync(watermark);
    }

    public override async ValueTask ProcessingTimeAsync(long now)
    {
        while (_processingTimers.TryTakeDue(now, out var key, out long time)) await FireAsync(key, time, TimeDomain.ProcessingTime);
        if (_processingTimers.TryPeekTime(out long next)) _clock.RequestTick(next);
        await Next.ProcessingTimeAsync(now);
    }

    private async ValueTask FireAsync(TKey key, long time, TimeDomain domain)
    {
        _state.CurrentKey = key;
        _context.Enter(key, time, domain);
        _function.OnTimer(time, _context);
        await PushEmittedAsync();
    }

    private async ValueTask PushEmittedAsync()
    {
        // Nothing downstream calls back into this operator (the dataflow is acyclic), so the list is stable while pushed.
        var emitted = _context.Emitted;
        for (int i = 0; i < emitted.Count; i++) await Next.RecordAsync(emitted[i].Value, emitted[i].Timestamp);
        emitted.Clear();
    }
}
