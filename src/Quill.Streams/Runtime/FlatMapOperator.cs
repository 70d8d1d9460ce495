namespace Quill.Streams.Runtime;

/// <summary>Every output of one input record carries the input's timestamp.</summary>
internal sealed class FlatMapOperator<TIn, TOut>(Func<TIn, IEnumerable<TOut>> flatMap, IStreamInput<TOut> next)
    : ChainedOperator<TIn, TOut>(next)
{
    public override async ValueTask RecordAsync(TIn value, long timestamp)
    {
        foreach (var output in flatMap(value)) await Next.RecordAsync(output, timestamp);
    }
}
