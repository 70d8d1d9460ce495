using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;

namespace Quill.Streams.Api;

/// <summary>
/// A stream of <typeparamref name="T"/> records, each with a timestamp. Transformations return new streams; nothing
/// runs until the job does. A stream may feed several transformations: each then sees every record.
/// </summary>
public sealed class DataStream<T>
{
    /// <summary>Each consumer builds its operator for one parallel task, given what follows it.</summary>
    private readonly List<Func<JobContext, TaskInfo, IStreamInput<T>>> _consumers = [];

    internal DataStream(StreamJob job) => Job = job;

    public StreamJob Job { get; }

    public DataStream<TOut> Map<TOut>(Func<T, TOut> map)
    {
        var output = new DataStream<TOut>(Job);
        _consumers.Add((context, task) => new MapOperator<T, TOut>(map, output.BuildChain(context, task)));
        return output;
    }

    public DataStream<T> Filter(Func<T, bool> keep)
    {
        var output = new DataStream<T>(Job);
        _consumers.Add((context, task) => new FilterOperator<T>(keep, output.BuildChain(context, task)));
        return output;
    }

    public DataStream<TOut> FlatMap<TOut>(Func<T, IEnumerable<TOut>> flatMap)
    {
        var output = new DataStream<TOut>(Job);
        _consumers.Add((context, task) => new FlatMapOperator<T, TOut>(flatMap, output.BuildChain(context, task)));
        return output;
    }

    /// <summary>
    /// Partitions the stream by key: every record of a key goes to the same task, which keeps that key's state and
    /// timers. Keys (and state values) are written to checkpoints as JSON, so they must round-trip through
    /// System.Text.Json (fields included).
    /// </summary>
    public KeyedStream<TKey, T> KeyBy<TKey>(Func<T, TKey> keySelector) where TKey : notnull
    {
        var keyed = new KeyedStream<TKey, T>(Job, keySelector);
        _consumers.Add((context, task) =>
        {
            var mailboxes = context.MailboxesOf<T>(keyed).Select(m => m.Writer).ToArray();
            return new KeyedShuffle<TKey, T>(keySelector, mailboxes, task.Subtask, context.Abort);
        });
        return keyed;
    }

    /// <summary>Writes each record's value to <paramref name="topic"/> with a null key.</summary>
    public void ToKafka(string topic, Serde<T> valueSerde) =>
        AddSink(topic, _ => null, valueSerde.Serialize);

    /// <summary>Writes each record's value to <paramref name="topic"/>, keyed by <paramref name="keySelector"/>.</summary>
    public void ToKafka<TKey>(string topic, Func<T, TKey> keySelector, Serde<TKey> keySerde, Serde<T> valueSerde) =>
        AddSink(topic, r => keySerde.Serialize(keySelector(r)), valueSerde.Serialize);

    /// <summary>Writes a key and a value taken from each record to <paramref name="topic"/>.</summary>
    public void ToKafka<TKey, TValue>(string topic, Func<T, TKey> keySelector, Serde<TKey> keySerde,
        Func<T, TValue> valueSelector, Serde<TValue> valueSerde) =>
        AddSink(topic, r => keySerde.Serialize(keySelector(r)), r => valueSerde.Serialize(valueSelector(r)));

    private void AddSink(string topic, Func<T, byte[]?> key, Func<T, byte[]?> value)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        _consumers.Add((context, _) =>
        {
            var sink = new KafkaSink<T>(context.Options, topic, key, value, context.Abort, context.ExactlyOnceOutput);
            context.Resources.Add(sink);
            return sink;
        });
    }

    internal void AddConsumer(Func<JobContext, TaskInfo, IStreamInput<T>> consumer) => _consumers.Add(consumer);

    /// <summary>The chain of operators this stream feeds, for one parallel task.</summary>
    internal IStreamInput<T> BuildChain(JobContext context, TaskInfo task) => _consumers.Count switch
    {
        0 => new Discard<T>(),
        1 => _consumers[0](context, task),
        _ => new FanOut<T>(_consumers.Select(c => c(context, task)).ToArray()),
    };
}
