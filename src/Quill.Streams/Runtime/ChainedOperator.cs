using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// An operator chained in front of <see cref="Next"/> in the same task (Flink's operator chaining): control elements
/// pass straight through unless the operator overrides them.
/// </summary>
public abstract class ChainedOperator<TIn, TOut>(IStreamInput<TOut> next) : IStreamInput<TIn>
{
    protected IStreamInput<TOut> Next { get; } = next;

    public abstract ValueTask RecordAsync(TIn value, long timestamp);
    public virtual ValueTask WatermarkAsync(long watermark) => Next.WatermarkAsync(watermark);
    public virtual ValueTask WatermarkStatusAsync(WatermarkStatus status) => Next.WatermarkStatusAsync(status);
    public virtual ValueTask BarrierAsync(long checkpointId) => Next.BarrierAsync(checkpointId);
    public virtual ValueTask ProcessingTimeAsync(long now) => Next.ProcessingTimeAsync(now);
    public virtual ValueTask EndAsync() => Next.EndAsync();
    public virtual ValueTask TableLoadedAsync(int tableSenders) => Next.TableLoadedAsync(tableSenders);
    public virtual ValueTask FlushAsync() => Next.FlushAsync();
}
