using Quill.Streams.Api;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// Tumbling event-time windows as a keyed function: per key, an accumulator per open window (map state by window
/// start) and an event-time timer at the window's last timestamp. When the watermark reaches it the window's result
/// is emitted, stamped with that time, and its state dropped. A record whose window has already fired is late and
/// dropped (Flink's default, no allowed lateness).
/// </summary>
internal sealed class TumblingWindowFunction<TKey, T, TAcc, TOut>(
    TumblingEventTimeWindows windows,
    Func<TAcc> createAccumulator,
    Func<TAcc, T, TAcc> add,
    Func<TKey, TimeWindow, TAcc, TOut> result) : KeyedProcessFunction<TKey, T, TOut> where TKey : notnull
{
    private IMapState<long, TAcc> _accumulators = null!;

    public long DroppedLateRecords { get; private set; }

    public override void Open(IKeyedStateProvider state) => _accumulators = state.GetMapState<long, TAcc>("window-accumulators");

    public override void ProcessElement(T value, KeyedContext<TKey, TOut> context)
    {
        var window = windows.WindowOf(context.Timestamp);
        if (window.MaxTimestamp <= context.Timers.CurrentWatermark)
        {
            DroppedLateRecords++;
            return;
        }
        var accumulator = _accumulators.TryGetValue(window.Start, out var current) ? current : createAccumulator();
        _accumulators.Put(window.Start, add(accumulator, value));
        context.Timers.RegisterEventTimeTimer(window.MaxTimestamp);
    }

    public override void OnTimer(long time, KeyedContext<TKey, TOut> context)
    {
        var window = windows.WindowOf(time);
        if (!_accumulators.TryGetValue(window.Start, out var accumulator)) return;
        _accumulators.Remove(window.Start);
        context.Emit(result(context.Key, window, accumulator), window.MaxTimestamp);
    }
}
