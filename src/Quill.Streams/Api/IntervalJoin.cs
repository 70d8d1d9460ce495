using Quill.Streams.Runtime;

namespace Quill.Streams.Api;

/// <summary>
/// Two keyed streams to join by time interval (Flink's interval join, from
/// <see cref="KeyedStream{TKey,T}.IntervalJoin{TOther}"/>): <c>.Between(lower, upper).Process(join)</c>.
/// </summary>
public sealed class IntervalJoin<TKey, TLeft, TRight> where TKey : notnull
{
    private readonly KeyedStream<TKey, TLeft> _left;
    private readonly KeyedStream<TKey, TRight> _right;

    internal IntervalJoin(KeyedStream<TKey, TLeft> left, KeyedStream<TKey, TRight> right)
    {
        if (left.Upstream.Job != right.Upstream.Job) throw new ArgumentException("a join joins streams of the same job", nameof(right));
        _left = left;
        _right = right;
    }

    /// <summary>
    /// A left record at ta joins the right records of its key at tb with ta + <paramref name="lower"/> &lt;= tb &lt;= ta
    /// + <paramref name="upper"/> (both inclusive; negative bounds reach back in time).
    /// </summary>
    public IntervalJoined<TKey, TLeft, TRight> Between(TimeSpan lower, TimeSpan upper)
    {
        if (lower > upper) throw new ArgumentException($"the lower bound {lower} is above the upper bound {upper}", nameof(lower));
        return new(_left, _right, (long)lower.TotalMilliseconds, (long)upper.TotalMilliseconds);
    }
}

/// <summary>An interval join with its bounds, ready for its function.</summary>
public sealed class IntervalJoined<TKey, TLeft, TRight> where TKey : notnull
{
    private readonly KeyedStream<TKey, TLeft> _left;
    private readonly KeyedStream<TKey, TRight> _right;
    private readonly long _lower;
    private readonly long _upper;

    internal IntervalJoined(KeyedStream<TKey, TLeft> left, KeyedStream<TKey, TRight> right, long lower, long upper) =>
        (_left, _right, _lower, _upper) = (left, right, lower, upper);

    /// <summary>
    /// Runs <paramref name="join"/> for each pair, as soon as its second record comes; the result carries the later of
    /// the two timestamps. Needs event time (watermarks on both inputs): the records wait in keyed state (checkpointed)
    /// until the watermark passes the time they can last match, and records at or below the watermark are dropped.
    /// </summary>
    public DataStream<TOut> Process<TOut>(Func<TLeft, TRight, TOut> join)
    {
        var (lower, upper) = (_lower, _upper);
        return JoinInput<TLeft, TRight>.KeyTogether(_left.Upstream, _left.KeySelector, _right.Upstream, _right.KeySelector)
            .Process(() => new IntervalJoinFunction<TKey, TLeft, TRight, TOut>(lower, upper, join));
    }
}
