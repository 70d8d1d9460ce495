namespace Quill.Streams.Runtime;

internal sealed class MapOperator<TIn, TOut>(Func<TIn, TOut> map, IStreamInput<TOut> next) : ChainedOperator<TIn, TOut>(next)
{
    public override ValueTask RecordAsync(TIn value, long timestamp) => Next.RecordAsync(map(value), timestamp);
}
