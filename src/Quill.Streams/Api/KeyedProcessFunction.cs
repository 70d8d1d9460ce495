using Quill.Streams.State;

namespace Quill.Streams.Api;

/// <summary>
/// A function over a keyed stream (Flink's KeyedProcessFunction): it sees one record or one timer at a time, with the
/// key's state and timers, and emits any number of outputs through the context. Each parallel task has its own
/// instance, created by the factory given to <see cref="KeyedStream{TKey,T}.Process{TOut}(Func{KeyedProcessFunction{TKey,T,TOut}})"/>.
/// </summary>
public abstract class KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    /// <summary>Called once per task before the first record: register state here.</summary>
    public virtual void Open(IKeyedStateProvider state)
    {
    }

    public abstract void ProcessElement(TIn value, KeyedContext<TKey, TOut> context);

    /// <summary>A timer of <see cref="KeyedContext{TKey,TOut}.Key"/> fired at <paramref name="time"/>.</summary>
    public virtual void OnTimer(long time, KeyedContext<TKey, TOut> context)
    {
    }
}

/// <summary>A keyed function made of delegates, for the lambda forms of <c>Process</c>.</summary>
internal sealed class DelegateKeyedProcessFunction<TKey, TIn, TOut>(
    Action<IKeyedStateProvider>? open,
    Action<TIn, KeyedContext<TKey, TOut>> process,
    Action<long, KeyedContext<TKey, TOut>>? onTimer) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    public override void Open(IKeyedStateProvider state) => open?.Invoke(state);
    public override void ProcessElement(TIn value, KeyedContext<TKey, TOut> context) => process(value, context);
    public override void OnTimer(long time, KeyedContext<TKey, TOut> context) => onTimer?.Invoke(time, context);
}
