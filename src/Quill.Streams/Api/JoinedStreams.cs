using Quill.Streams.Runtime;
using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>
/// Two streams to join in windows (Flink's JoinedStreams, from <see cref="DataStream{T}.Join{TRight}"/>):
/// <c>.Where(leftKey).EqualTo(rightKey).Window(assigner).Apply(join)</c>.
/// </summary>
public sealed class JoinedStreams<TLeft, TRight>
{
    private readonly DataStream<TLeft> _left;
    private readonly DataStream<TRight> _right;

    internal JoinedStreams(DataStream<TLeft> left, DataStream<TRight> right)
    {
        if (left.Job != right.Job) throw new ArgumentException("a join joins streams of the same job", nameof(right));
        _left = left;
        _right = right;
    }

    /// <summary>The key of a left record.</summary>
    public JoinWhere<TLeft, TRight, TKey> Where<TKey>(Func<TLeft, TKey> leftKey) where TKey : notnull => new(_left, _right, leftKey);
}

/// <summary>A window join with its left key chosen; the right one next.</summary>
public sealed class JoinWhere<TLeft, TRight, TKey> where TKey : notnull
{
    private readonly DataStream<TLeft> _left;
    private readonly DataStream<TRight> _right;
    private readonly Func<TLeft, TKey> _leftKey;

    internal JoinWhere(DataStream<TLeft> left, DataStream<TRight> right, Func<TLeft, TKey> leftKey) =>
        (_left, _right, _leftKey) = (left, right, leftKey);

    /// <summary>The key of a right record: a left and a right record join when their keys are equal.</summary>
    public JoinEqualTo<TLeft, TRight, TKey> EqualTo(Func<TRight, TKey> rightKey) =>
        new(JoinInput<TLeft, TRight>.KeyTogether(_left, _leftKey, _right, rightKey));
}

/// <summary>A window join with both keys chosen; the windows next.</summary>
public sealed class JoinEqualTo<TLeft, TRight, TKey> where TKey : notnull
{
    private readonly KeyedStream<TKey, JoinInput<TLeft, TRight>> _inputs;

    internal JoinEqualTo(KeyedStream<TKey, JoinInput<TLeft, TRight>> inputs) => _inputs = inputs;

    /// <summary>
    /// The event-time windows the join happens in: <see cref="TumblingEventTimeWindows"/>,
    /// <see cref="SlidingEventTimeWindows"/> or <see cref="EventTimeSessionWindows"/> (a key's sessions are made of the
    /// records of both sides).
    /// </summary>
    public WindowedJoin<TLeft, TRight, TKey> Window(WindowAssigner windows) => new(_inputs.Window(windows));
}

/// <summary>A window join, ready for its function.</summary>
public sealed class WindowedJoin<TLeft, TRight, TKey> where TKey : notnull
{
    private readonly WindowedStream<TKey, JoinInput<TLeft, TRight>> _windows;

    internal WindowedJoin(WindowedStream<TKey, JoinInput<TLeft, TRight>> windows) => _windows = windows;

    /// <summary>
    /// Flink's window join (an inner join): when the watermark passes a window's end, <paramref name="join"/> runs for
    /// every pair of a left and a right record of the same key in that window (left records in the order they came,
    /// each with every right record in the order they came), each result stamped with the window's last millisecond.
    /// A key with records on one side only gives nothing; late records are dropped. The window's records are keyed
    /// state until it fires, so they are in the checkpoints.
    /// </summary>
    public DataStream<TOut> Apply<TOut>(Func<TLeft, TRight, TOut> join) =>
        _windows.Aggregate(() => new JoinBuffer<TLeft, TRight>(), (buffer, input) => buffer.Add(input), (a, b) => a.Merge(b), (_, _, buffer) => buffer)
            .FlatMap(buffer => buffer.Pairs(join));
}

/// <summary>A window's records of one key, by side: a window join's accumulator (keyed state, so it is checkpointed).</summary>
internal sealed class JoinBuffer<TLeft, TRight>
{
    public List<TLeft> Left { get; set; } = [];
    public List<TRight> Right { get; set; } = [];

    public JoinBuffer<TLeft, TRight> Add(JoinInput<TLeft, TRight> input)
    {
        if (input.IsLeft) Left.Add(input.Left);
        else Right.Add(input.Right);
        return this;
    }

    public JoinBuffer<TLeft, TRight> Merge(JoinBuffer<TLeft, TRight> other) =>
        new() { Left = [.. Left, .. other.Left], Right = [.. Right, .. other.Right] };

    public IEnumerable<TOut> Pairs<TOut>(Func<TLeft, TRight, TOut> join)
    {
        foreach (var left in Left)
            foreach (var right in Right) yield return join(left, right);
    }
}
