namespace Quill.Streams.Runtime;

internal sealed class FilterOperator<T>(Func<T, bool> keep, IStreamInput<T> next) : ChainedOperator<T, T>(next)
{
    public override ValueTask RecordAsync(T value, long timestamp) =>
        keep(value) ? Next.RecordAsync(value, timestamp) : ValueTask.CompletedTask;
}
