using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// What elements are pushed into: every operator of a chain is one, and so are the shuffle to the next keyed stage
/// and the Kafka sink. One task pushes into a chain at a time, so an implementation needs no lock. Besides records, the
/// control elements flow through in order with them: watermarks (event time), checkpoint barriers (Flink's aligned
/// barriers: an operator snapshots its state when the barrier passes it) and the end of the input.
/// </summary>
public interface IStreamInput<T> : IStreamControl
{
    ValueTask RecordAsync(T value, long timestamp);
}

/// <summary>The control elements of a stream, whatever its record type.</summary>
public interface IStreamControl
{
    /// <summary>Event time has reached <paramref name="watermark"/>: no record with an earlier timestamp is expected.</summary>
    ValueTask WatermarkAsync(long watermark);

    /// <summary>The input went idle (sends no watermarks for now) or is active again.</summary>
    ValueTask WatermarkStatusAsync(WatermarkStatus status);

    /// <summary>Checkpoint <paramref name="checkpointId"/>'s barrier: everything before it belongs to that checkpoint.</summary>
    ValueTask BarrierAsync(long checkpointId);

    /// <summary>The task's clock reached <paramref name="now"/> (ms since the epoch): processing-time timers due fire.</summary>
    ValueTask ProcessingTimeAsync(long now);

    /// <summary>
    /// A table's source subtask has read its partitions to their end (<see cref="ElementKind.TableLoaded"/>;
    /// <paramref name="tableSenders"/>: the table's number of source subtasks). Operators between the table's source and
    /// its join pass it on; a keyed task passes it to its chain once it has it from that many senders, and the join
    /// then joins the stream records it held. Nothing else needs it.
    /// </summary>
    ValueTask TableLoadedAsync(int tableSenders) => ValueTask.CompletedTask;

    /// <summary>The input is over: flush what is buffered and pass it on.</summary>
    ValueTask EndAsync();

    /// <summary>
    /// The task has no more input at hand for now (it is about to wait for some): what an operator holds back only to
    /// send records together (a shuffle's batches to the next stage) goes now, so that no record waits for later input.
    /// Operators pass it on. It moves no event time and takes no checkpoint; the control elements above flush as well.
    /// </summary>
    ValueTask FlushAsync() => ValueTask.CompletedTask;
}
