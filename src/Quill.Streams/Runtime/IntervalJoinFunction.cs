using Quill.Streams.Api;
using Quill.Streams.State;

namespace Quill.Streams.Runtime;

/// <summary>
/// Flink's interval join (IntervalJoinOperator) as a keyed function over both inputs: a left record at ta joins every
/// right record of its key at tb with ta + lower &lt;= tb &lt;= ta + upper, whichever came first. Each side's records
/// wait in map state by timestamp until the watermark passes the last time a record of the other side could still
/// match them (a left record until ta + upper, a right one until tb - lower), then an event-time timer removes them.
/// A record at or below the watermark is late and dropped. Results carry the later of the two timestamps.
/// </summary>
internal sealed class IntervalJoinFunction<TKey, TLeft, TRight, TOut>(long lower, long upper, Func<TLeft, TRight, TOut> join)
    : KeyedProcessFunction<TKey, JoinInput<TLeft, TRight>, TOut> where TKey : notnull
{
    private IMapState<long, List<TLeft>> _left = null!;
    private IMapState<long, List<TRight>> _right = null!;

    public long DroppedLateRecords { get; private set; }

    public override void Open(IKeyedStateProvider state)
    {
        _left = state.GetMapState<long, List<TLeft>>("interval-join-left");
        _right = state.GetMapState<long, List<TRight>>("interval-join-right");
    }

    public override void ProcessElement(JoinInput<TLeft, TRight> input, KeyedContext<TKey, TOut> context)
    {
        long time = context.Timestamp;
        if (time <= context.Timers.CurrentWatermark)
        {
            DroppedLateRecords++;
            return;
        }
        if (input.IsLeft)
        {
            foreach (var (rightTime, rights) in _right.Entries.OrderBy(e => e.Key))
            {
                if (rightTime < time + lower || rightTime > time + upper) continue;
                foreach (var right in rights) context.Emit(join(input.Left, right), Math.Max(time, rightTime));
            }
            Buffer(_left, time, input.Left);
            context.Timers.RegisterEventTimeTimer(time + upper);
        }
        else
        {
            foreach (var (leftTime, lefts) in _left.Entries.OrderBy(e => e.Key))
            {
                if (time < leftTime + lower || time > leftTime + upper) continue;
                foreach (var left in lefts) context.Emit(join(left, input.Right), Math.Max(leftTime, time));
            }
            Buffer(_right, time, input.Right);
            context.Timers.RegisterEventTimeTimer(time - lower);
        }
    }

    private static void Buffer<T>(IMapState<long, List<T>> buffer, long time, T value)
    {
        if (buffer.TryGetValue(time, out var values)) values.Add(value);
        else buffer.Put(time, [value]);
    }

    /// <summary>The records whose last chance to match has passed: left ones at time - upper, right ones at time + lower.</summary>
    public override void OnTimer(long time, KeyedContext<TKey, TOut> context)
    {
        _left.Remove(time - upper);
        _right.Remove(time + lower);
    }
}
