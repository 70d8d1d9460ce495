using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>A keyed stream cut into tumbling event-time windows (<see cref="KeyedStream{TKey,T}.Window"/>); needs watermarks.</summary>
public sealed class WindowedStream<TKey, T> where TKey : notnull
{
    private readonly KeyedStream<TKey, T> _keyed;
    private readonly TumblingEventTimeWindows _windows;

    internal WindowedStream(KeyedStream<TKey, T> keyed, TumblingEventTimeWindows windows)
    {
        _keyed = keyed;
        _windows = windows;
    }

    /// <summary>Each window's records of a key folded with <paramref name="reduce"/>; one output per key and window.</summary>
    public DataStream<T> Reduce(Func<T, T, T> reduce) => Reduce(reduce, (_, _, reduced) => reduced);

    /// <summary>As <see cref="Reduce(Func{T,T,T})"/>, the output made from the key, the window and the reduced value.</summary>
    public DataStream<TOut> Reduce<TOut>(Func<T, T, T> reduce, Func<TKey, TimeWindow, T, TOut> result) =>
        Aggregate<Reduced, TOut>(() => default, (acc, value) => new Reduced(true, acc.Has ? reduce(acc.Value, value) : value),
            (key, window, acc) => result(key, window, acc.Value));

    /// <summary>
    /// Each window's records of a key added into an accumulator (Flink's AggregateFunction), then turned into the
    /// output with the key and the window.
    /// </summary>
    public DataStream<TOut> Aggregate<TAcc, TOut>(Func<TAcc> createAccumulator, Func<TAcc, T, TAcc> add, Func<TKey, TimeWindow, TAcc, TOut> result) =>
        _keyed.Process(() => new TumblingWindowFunction<TKey, T, TAcc, TOut>(_windows, createAccumulator, add, result));

    private readonly record struct Reduced(bool Has, T Value);
}
