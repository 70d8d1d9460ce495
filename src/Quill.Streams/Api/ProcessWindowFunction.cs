using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>
/// A whole-window function (Flink's ProcessWindowFunction): called once per key and window when the window fires, with
/// all of the window's records, and emits any number of outputs through the context. Each parallel task has its own
/// instance, made by the factory given to
/// <see cref="WindowedStream{TKey,T}.Process{TOut}(Func{ProcessWindowFunction{TKey,T,TOut}})"/>.
/// </summary>
public abstract class ProcessWindowFunction<TKey, TIn, TOut> where TKey : notnull
{
    /// <summary>
    /// The window <see cref="WindowContext{TKey,TOut}.Window"/> of key <see cref="WindowContext{TKey,TOut}.Key"/> fired:
    /// <paramref name="elements"/> are its records in the order they came (a merged session's: each merged part's in
    /// order, the parts by their start).
    /// </summary>
    public abstract void Process(IReadOnlyList<TIn> elements, WindowContext<TKey, TOut> context);
}

/// <summary>A whole-window function made of a delegate, for the lambda form of <c>Process</c>.</summary>
internal sealed class DelegateProcessWindowFunction<TKey, TIn, TOut>(Action<IReadOnlyList<TIn>, WindowContext<TKey, TOut>> process)
    : ProcessWindowFunction<TKey, TIn, TOut> where TKey : notnull
{
    public override void Process(IReadOnlyList<TIn> elements, WindowContext<TKey, TOut> context) => process(elements, context);
}

/// <summary>
/// What a window function sees when a window fires: the key, the window, the clocks, and where outputs go (the main
/// output and side outputs), every output stamped with the window's last timestamp (<see cref="TimeWindow.MaxTimestamp"/>).
/// </summary>
public sealed class WindowContext<TKey, TOut> where TKey : notnull
{
    private KeyedContext<TKey, TOut> _context = null!;

    internal WindowContext()
    {
    }

    public TKey Key => _context.Key;
    public TimeWindow Window { get; private set; }
    /// <summary>The operator's watermark as the window fires (at or past the window's last timestamp, for event-time windows).</summary>
    public long CurrentWatermark => _context.Timers.CurrentWatermark;
    public long CurrentProcessingTime => _context.Timers.CurrentProcessingTime;

    /// <summary>Emits <paramref name="value"/>, stamped with the window's last timestamp.</summary>
    public void Emit(TOut value) => _context.Emit(value, Window.MaxTimestamp);

    /// <summary>
    /// Sends <paramref name="value"/> to the side output <paramref name="tag"/>, stamped with the window's last timestamp;
    /// read it with <see cref="DataStream{T}.GetSideOutput{TSide}"/> on the stream <c>Process</c> returned.
    /// </summary>
    public void Output<TSide>(OutputTag<TSide> tag, TSide value) => _context.Output(tag, value, Window.MaxTimestamp);

    internal WindowContext<TKey, TOut> Enter(KeyedContext<TKey, TOut> context, TimeWindow window)
    {
        _context = context;
        Window = window;
        return this;
    }
}
