namespace Quill.Streams.Runtime;

public enum ElementKind
{
    Record,
    Watermark,
    /// <summary>The sender went idle or is active again (the marker: a Time.WatermarkStatus).</summary>
    WatermarkStatus,
    Barrier,
    End,
    /// <summary>The task's own processing-time timer fired (never sent between tasks).</summary>
    ProcessingTimeTick,
    /// <summary>
    /// Several records of one sender, in their order (<see cref="StreamElement{T}.Batch"/>): what a shuffle sends to a
    /// mailbox in the same process, so that a record costs a channel write only once per batch. Never sent over TCP.
    /// </summary>
    RecordBatch,
    /// <summary>
    /// A table's source subtask has read its partitions up to the end (its bootstrap; the marker: how many source
    /// subtasks the table has). A stream-table join holds its stream's records until every one of them has said so.
    /// </summary>
    TableLoaded,
}

/// <summary>
/// One element on a channel between tasks: a record with its timestamp, or a control element. <see cref="Marker"/> is
/// the watermark, the watermark status, the checkpoint id, the tick's time or a loaded table's number of source subtasks; <see cref="Sender"/> the upstream subtask it came from, so the
/// receiving task can take the minimum watermark and align barriers per input.
/// </summary>
public readonly record struct StreamElement<T>(ElementKind Kind, T Value, long Timestamp, long Marker, int Sender)
{
    /// <summary>The records of a <see cref="ElementKind.RecordBatch"/>; null for the other kinds.</summary>
    internal RecordBatch<T>? Batch { get; init; }

    public static StreamElement<T> Record(T value, long timestamp, int sender) => new(ElementKind.Record, value, timestamp, 0, sender);
    public static StreamElement<T> Control(ElementKind kind, long marker, int sender) => new(kind, default!, 0, marker, sender);
    internal static StreamElement<T> Records(RecordBatch<T> batch, int sender) =>
        new(ElementKind.RecordBatch, default!, 0, 0, sender) { Batch = batch };
}

/// <summary>
/// Records with their timestamps, in order, filled by one sender and then handed whole to one receiver (the sender
/// starts a new batch after it sends one, so the two never share it).
/// </summary>
internal sealed class RecordBatch<T>(int capacity)
{
    private readonly T[] _values = new T[capacity];
    private readonly long[] _timestamps = new long[capacity];

    public int Count { get; private set; }
    public bool IsFull => Count == _values.Length;
    public T ValueAt(int index) => _values[index];
    public long TimestampAt(int index) => _timestamps[index];

    public void Add(T value, long timestamp)
    {
        _values[Count] = value;
        _timestamps[Count] = timestamp;
        Count++;
    }

    /// <summary>Empties a batch that was not sent (its one record went as a plain record), to fill it again.</summary>
    public void Clear()
    {
        Array.Clear(_values, 0, Count);
        Count = 0;
    }
}
