using Quill.Streams.Runtime;

namespace Quill.Streams.Api;

/// <summary>
/// A table read from a (compacted) topic, as Kafka Streams' KTable: for each key, the value of its latest record; a
/// record with a null value (a tombstone) deletes the key. Made by <see cref="StreamJob.TableFromKafka{TKey,TValue}"/>,
/// used by joining a keyed stream with it: by processing time (<see cref="KeyedStream{TKey,T}.Join{TValue,TOut}"/>,
/// <see cref="KeyedStream{TKey,T}.LeftJoin{TValue,TOut}"/>) or, for a table read with a watermark strategy (a versioned
/// table), by event time (<see cref="KeyedStream{TKey,T}.TemporalJoin{TValue,TOut}"/>,
/// <see cref="KeyedStream{TKey,T}.TemporalLeftJoin{TValue,TOut}"/>).
/// </summary>
public sealed class KafkaTable<TKey, TValue> where TKey : notnull
{
    private readonly StreamJob _job;

    internal KafkaTable(StreamJob job, string sourceId, DataStream<TableUpdate<TKey, TValue>> updates, bool hasEventTime)
    {
        _job = job;
        SourceId = sourceId;
        Updates = updates;
        HasEventTime = hasEventTime;
    }

    /// <summary>Every record of the topic in order, as an update of its key, stamped with its event time.</summary>
    internal DataStream<TableUpdate<TKey, TValue>> Updates { get; }

    /// <summary>The id of the table's source operator (its offsets are its state).</summary>
    internal string SourceId { get; }

    /// <summary>Whether the table was read with a watermark strategy: its updates then take part in event time.</summary>
    internal bool HasEventTime { get; }

    /// <summary>
    /// Names the table's source operator (Flink's uid, as <see cref="DataStream{T}.Uid"/>): its offsets are checkpointed,
    /// and found again in a savepoint or checkpoint, under this name instead of its place in the job's definition
    /// ("table-1"), so a changed job (operators added or removed before it) still reads on from them. The table's
    /// values live in the join that uses it: give that a uid too (<c>.Join(table, ...).Uid("...")</c>).
    /// </summary>
    public KafkaTable<TKey, TValue> Uid(string uid)
    {
        ArgumentException.ThrowIfNullOrEmpty(uid);
        _job.SetUid(SourceId, uid);
        return this;
    }
}

/// <summary>A table topic's record: the key's new value, or its deletion (a tombstone).</summary>
internal readonly record struct TableUpdate<TKey, TValue>(TKey Key, bool Deleted, TValue Value);
