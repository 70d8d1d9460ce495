namespace Quill.Streams.Runtime;

/// <summary>
/// A record of either input of a join: the two inputs are tagged, unioned and keyed together, so that one keyed task
/// sees both sides of a key (as Flink builds its window join on a union of tagged inputs).
/// </summary>
internal readonly record struct JoinInput<TLeft, TRight>(bool IsLeft, TLeft Left, TRight Right)
{
    public static JoinInput<TLeft, TRight> OfLeft(TLeft value) => new(true, value, default!);
    public static JoinInput<TLeft, TRight> OfRight(TRight value) => new(false, default!, value);

    /// <summary>Both inputs as one keyed stream: each side keyed by its own selector.</summary>
    public static Api.KeyedStream<TKey, JoinInput<TLeft, TRight>> KeyTogether<TKey>(Api.DataStream<TLeft> left, Func<TLeft, TKey> leftKey,
        Api.DataStream<TRight> right, Func<TRight, TKey> rightKey) where TKey : notnull
    {
        if (left.Job != right.Job) throw new ArgumentException("a join joins streams of the same job");
        return left.Map(OfLeft).Union(right.Map(OfRight)).KeyBy(input => input.IsLeft ? leftKey(input.Left) : rightKey(input.Right));
    }
}
