using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>
/// A keyed stream cut into windows (<see cref="KeyedStream{TKey,T}.Window"/>): event-time windows need watermarks;
/// processing-time ones (<see cref="WindowAssigner.IsEventTime"/> false) take the task's clock and need none. Set the
/// allowed lateness and the late-data side output before <see cref="Reduce(Func{T,T,T})"/>,
/// <see cref="Aggregate{TAcc,TOut}(Func{TAcc},Func{TAcc,T,TAcc},Func{TKey,TimeWindow,TAcc,TOut})"/> (incremental: one
/// value per window) or <see cref="Process{TOut}(Action{IReadOnlyList{T},WindowContext{TKey,TOut}})"/> (the whole window).
/// </summary>
public sealed class WindowedStream<TKey, T> where TKey : notnull
{
    private readonly KeyedStream<TKey, T> _keyed;
    private readonly WindowAssigner _windows;
    private long _allowedLateness;
    private OutputTag<T>? _lateData;

    internal WindowedStream(KeyedStream<TKey, T> keyed, WindowAssigner windows)
    {
        _keyed = keyed;
        _windows = windows;
    }

    /// <summary>
    /// Flink's allowedLateness: a window's state is kept until the watermark passes its end plus
    /// <paramref name="lateness"/>; a record for it that comes after it fired, within that time, fires it again with the
    /// updated result (a second output for the same key and window). Later records are late (see <see cref="SideOutputLateData"/>).
    /// Processing-time windows have no lateness (as Flink's): they go when they fire, and no record is late for them.
    /// </summary>
    public WindowedStream<TKey, T> AllowedLateness(TimeSpan lateness)
    {
        if (lateness < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(lateness), lateness, "must not be negative");
        _allowedLateness = (long)lateness.TotalMilliseconds;
        return this;
    }

    /// <summary>
    /// Records too late for every window they belong to go to <paramref name="tag"/> (with their own timestamps) instead
    /// of being dropped: read them with <see cref="DataStream{T}.GetSideOutput{TSide}"/> on the windowed result.
    /// </summary>
    public WindowedStream<TKey, T> SideOutputLateData(OutputTag<T> tag)
    {
        _lateData = tag;
        return this;
    }

    /// <summary>Each window's records of a key folded with <paramref name="reduce"/>; one output per key and window.</summary>
    public DataStream<T> Reduce(Func<T, T, T> reduce) => Reduce(reduce, (_, _, reduced) => reduced);

    /// <summary>As <see cref="Reduce(Func{T,T,T})"/>, the output made from the key, the window and the reduced value.</summary>
    public DataStream<TOut> Reduce<TOut>(Func<T, T, T> reduce, Func<TKey, TimeWindow, T, TOut> result) =>
        Build<Reduced<T>, TOut>(() => default, (acc, value) => new Reduced<T>(true, acc.Has ? reduce(acc.Value, value) : value),
            (a, b) => !a.Has ? b : !b.Has ? a : new Reduced<T>(true, reduce(a.Value, b.Value)),
            (key, window, acc) => result(key, window, acc.Value));

    /// <summary>
    /// Each window's records of a key added into an accumulator (Flink's AggregateFunction), then turned into the
    /// output with the key and the window. Session windows merge accumulators: use the overload with a merge.
    /// </summary>
    public DataStream<TOut> Aggregate<TAcc, TOut>(Func<TAcc> createAccumulator, Func<TAcc, T, TAcc> add, Func<TKey, TimeWindow, TAcc, TOut> result)
    {
        if (_windows.IsMerging)
            throw new InvalidOperationException("session windows merge their accumulators: pass a merge function to Aggregate");
        return Build(createAccumulator, add, null, result);
    }

    /// <summary>As the other Aggregate, with <paramref name="merge"/> to combine two accumulators (when session windows merge).</summary>
    public DataStream<TOut> Aggregate<TAcc, TOut>(Func<TAcc> createAccumulator, Func<TAcc, T, TAcc> add, Func<TAcc, TAcc, TAcc> merge,
        Func<TKey, TimeWindow, TAcc, TOut> result) => Build(createAccumulator, add, merge, result);

    /// <summary>
    /// A whole-window function (Flink's ProcessWindowFunction): when a window fires, <paramref name="process"/> runs once
    /// for its key with all its records, in the order they came, and emits any number of outputs (and side outputs)
    /// through the context, each stamped with the window's last timestamp. The window keeps its records until it fires
    /// (until its cleanup, with an allowed lateness: a late record within it fires the window again with all of its
    /// records). An incremental <see cref="Reduce{TOut}(Func{T,T,T},Func{TKey,TimeWindow,T,TOut})"/> or
    /// <see cref="Aggregate{TAcc,TOut}(Func{TAcc},Func{TAcc,T,TAcc},Func{TKey,TimeWindow,TAcc,TOut})"/> keeps one value
    /// per window instead, and its result sees the key and the window too.
    /// </summary>
    public DataStream<TOut> Process<TOut>(Action<IReadOnlyList<T>, WindowContext<TKey, TOut>> process) =>
        Process(() => new DelegateProcessWindowFunction<TKey, T, TOut>(process));

    /// <summary>As the lambda form; <paramref name="createFunction"/> makes one instance per task.</summary>
    public DataStream<TOut> Process<TOut>(Func<ProcessWindowFunction<TKey, T, TOut>> createFunction)
    {
        var (windows, lateness, lateData) = (_windows, _allowedLateness, _lateData);
        return _keyed.Process(() =>
        {
            var function = createFunction();
            var context = new WindowContext<TKey, TOut>();
            return new WindowOperatorFunction<TKey, T, IReadOnlyList<T>, TOut>(windows, lateness, lateData, new WindowRecordLists<T>(),
                (window, records, keyed) => function.Process(records, context.Enter(keyed, window)));
        });
    }

    private DataStream<TOut> Build<TAcc, TOut>(Func<TAcc> createAccumulator, Func<TAcc, T, TAcc> add, Func<TAcc, TAcc, TAcc>? merge,
        Func<TKey, TimeWindow, TAcc, TOut> result)
    {
        // Copied now: the stream can be windowed again with other settings.
        var (windows, lateness, lateData) = (_windows, _allowedLateness, _lateData);
        return _keyed.Process(() => new WindowOperatorFunction<TKey, T, TAcc, TOut>(windows, lateness, lateData,
            new WindowAccumulators<T, TAcc>(createAccumulator, add, merge),
            (window, accumulator, context) => context.Emit(result(context.Key, window, accumulator), window.MaxTimestamp)));
    }
}

/// <summary>A reduce's accumulator: nothing yet, or the value so far.</summary>
internal readonly record struct Reduced<T>(bool Has, T Value);
