namespace Quill.Streams.Api;

/// <summary>
/// Names a side output (Flink's OutputTag): a keyed function sends to it with
/// <see cref="KeyedContext{TKey,TOut}.Output{T}(OutputTag{T},T)"/>, a window sends its late records to it
/// (<see cref="WindowedStream{TKey,T}.SideOutputLateData"/>), and <see cref="DataStream{T}.GetSideOutput{TSide}"/> on the
/// stream the function or window made reads it. Tags are told apart by <see cref="Id"/>.
/// </summary>
public sealed class OutputTag<T>
{
    public OutputTag(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        Id = id;
    }

    public string Id { get; }

    public override string ToString() => Id;
}
