using Quill.Streams.Runtime;

namespace Quill.Streams.Api;

/// <summary>
/// A table read from a (compacted) topic, as Kafka Streams' KTable: for each key, the value of its latest record; a
/// record with a null value (a tombstone) deletes the key. Made by <see cref="StreamJob.TableFromKafka{TKey,TValue}"/>,
/// used by joining a keyed stream with it (<see cref="KeyedStream{TKey,T}.Join{TValue,TOut}"/>,
/// <see cref="KeyedStream{TKey,T}.LeftJoin{TValue,TOut}"/>).
/// </summary>
public sealed class KafkaTable<TKey, TValue> where TKey : notnull
{
    internal KafkaTable(DataStream<TableUpdate<TKey, TValue>> updates) => Updates = updates;

    /// <summary>Every record of the topic in order, as an update of its key.</summary>
    internal DataStream<TableUpdate<TKey, TValue>> Updates { get; }
}

/// <summary>A table topic's record: the key's new value, or its deletion (a tombstone).</summary>
internal readonly record struct TableUpdate<TKey, TValue>(TKey Key, bool Deleted, TValue Value);
