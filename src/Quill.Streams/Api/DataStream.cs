using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;

namespace Quill.Streams.Api;

/// <summary>
/// A stream of <typeparamref name="T"/> records, each with a timestamp. Transformations return new streams; nothing
/// runs until the job does. A stream may feed several transformations: each then sees every record.
/// </summary>
public sealed class DataStream<T> : ISideOutputStream
{
    /// <summary>Each consumer builds its operator for one parallel task, given what follows it.</summary>
    private readonly List<Func<JobContext, TaskInfo, IStreamInput<T>>> _consumers = [];
    /// <summary>Null unless a keyed function or window made this stream: then its side outputs by tag id.</summary>
    private readonly Dictionary<string, ISideOutputStream>? _sideOutputs;

    internal DataStream(StreamJob job, int lanes = 1, bool hasSideOutputs = false)
    {
        Job = job;
        Lanes = lanes;
        if (hasSideOutputs) _sideOutputs = new Dictionary<string, ISideOutputStream>(StringComparer.Ordinal);
    }

    public StreamJob Job { get; }

    /// <summary>The stateful operator (a source or a keyed function) this stream is the output of; null for the others.</summary>
    internal string? OperatorId { get; set; }

    /// <summary>
    /// Names the operator that made this stream (Flink's uid): its state is checkpointed, and found again in a savepoint
    /// or checkpoint, under this name instead of its place in the job's definition, so a changed job (operators added
    /// or removed before it) still restores it. Meaningful for sources and keyed functions, windows and joins; Map,
    /// Filter and FlatMap keep no state, so their uid is ignored. Uids must be unique in the job.
    /// </summary>
    public DataStream<T> Uid(string uid)
    {
        ArgumentException.ThrowIfNullOrEmpty(uid);
        if (OperatorId is { } id) Job.SetUid(id, uid);
        return this;
    }

    /// <summary>
    /// How many chains push into this stream in each task: 1, or the sum over a union's inputs (each its own lane, so
    /// that a keyed stage after it tells every input apart for watermarks, barriers and the end).
    /// </summary>
    internal int Lanes { get; }

    public DataStream<TOut> Map<TOut>(Func<T, TOut> map)
    {
        var output = new DataStream<TOut>(Job, Lanes);
        _consumers.Add((context, task) => new MapOperator<T, TOut>(map, output.BuildChain(context, task)));
        return output;
    }

    public DataStream<T> Filter(Func<T, bool> keep)
    {
        var output = new DataStream<T>(Job, Lanes);
        _consumers.Add((context, task) => new FilterOperator<T>(keep, output.BuildChain(context, task)));
        return output;
    }

    public DataStream<TOut> FlatMap<TOut>(Func<T, IEnumerable<TOut>> flatMap)
    {
        var output = new DataStream<TOut>(Job, Lanes);
        _consumers.Add((context, task) => new FlatMapOperator<T, TOut>(flatMap, output.BuildChain(context, task)));
        return output;
    }

    /// <summary>
    /// Partitions the stream by key: every record of a key goes to the same task, which keeps that key's state and
    /// timers. Keys (and state values) are written to checkpoints as JSON, so they must round-trip through
    /// System.Text.Json (fields included).
    /// </summary>
    public KeyedStream<TKey, T> KeyBy<TKey>(Func<T, TKey> keySelector) where TKey : notnull => new(this, keySelector);

    /// <summary>
    /// One stream of the records of this stream and of <paramref name="others"/> (Flink's union): no order between
    /// them. After a KeyBy, event time is the minimum over all of them, as over the partitions of one source.
    /// </summary>
    public DataStream<T> Union(params DataStream<T>[] others)
    {
        if (others.Any(o => o.Job != Job)) throw new ArgumentException("a union joins streams of the same job", nameof(others));
        DataStream<T>[] inputs = [this, .. others];
        var output = new DataStream<T>(Job, inputs.Sum(i => i.Lanes));
        int firstLane = 0;
        foreach (var input in inputs)
        {
            int offset = firstLane;
            input._consumers.Add((context, task) => output.BuildChain(context, task with { Lane = offset + task.Lane }));
            firstLane += input.Lanes;
        }
        return output;
    }

    /// <summary>
    /// Joins this stream with <paramref name="other"/> in event-time windows (Flink's window join):
    /// <c>a.Join(b).Where(x => x.Id).EqualTo(y => y.Id).Window(TumblingEventTimeWindows.Of(size)).Apply((x, y) => ...)</c>.
    /// </summary>
    public JoinedStreams<T, TRight> Join<TRight>(DataStream<TRight> other) => new(this, other);

    /// <summary>
    /// The records sent to <paramref name="tag"/> by the keyed function or window that made this stream (Flink's
    /// getSideOutput): what its function passed to <see cref="KeyedContext{TKey,TOut}.Output{TSide}(OutputTag{TSide},TSide)"/>,
    /// or a window's late records. Asking again for the same tag gives the same stream.
    /// </summary>
    public DataStream<TSide> GetSideOutput<TSide>(OutputTag<TSide> tag)
    {
        if (_sideOutputs is null)
            throw new InvalidOperationException("only the stream a keyed function or a window made (Process, Reduce, Aggregate) has side outputs");
        if (_sideOutputs.TryGetValue(tag.Id, out var existing))
            return existing as DataStream<TSide> ?? throw new InvalidOperationException($"side output '{tag.Id}' is already read as another type");
        var stream = new DataStream<TSide>(Job);
        _sideOutputs.Add(tag.Id, stream);
        return stream;
    }

    /// <summary>The chains of the side outputs someone reads, by tag id, for one parallel task.</summary>
    internal IReadOnlyDictionary<string, IStreamControl> BuildSideOutputs(JobContext context, TaskInfo task) =>
        _sideOutputs?.ToDictionary(p => p.Key, p => p.Value.BuildSideChain(context, task), StringComparer.Ordinal)
        ?? new Dictionary<string, IStreamControl>();

    IStreamControl ISideOutputStream.BuildSideChain(JobContext context, TaskInfo task) => BuildChain(context, task);

    /// <summary>
    /// Writes each record's value to <paramref name="topic"/> with a null key; to the partition
    /// <paramref name="partitioner"/> chooses, or where the Kafka client puts it when there is none.
    /// </summary>
    public void ToKafka(string topic, Serde<T> valueSerde, KafkaPartitioner<T>? partitioner = null) =>
        AddSink(topic, _ => null, valueSerde.Serialize, partitioner);

    /// <summary>
    /// Writes each record's value to <paramref name="topic"/> with a null key, to the partition
    /// <paramref name="partitioner"/> gives for the record and the topic's partition count.
    /// </summary>
    public void ToKafka(string topic, Serde<T> valueSerde, Func<T, int, int> partitioner) =>
        ToKafka(topic, valueSerde, KafkaPartitioner.Of(partitioner));

    /// <summary>
    /// Writes each record's value to <paramref name="topic"/>, keyed by <paramref name="keySelector"/>; to the partition
    /// <paramref name="partitioner"/> chooses, or by the key's hash (the Kafka client's partitioner) when there is none.
    /// </summary>
    public void ToKafka<TKey>(string topic, Func<T, TKey> keySelector, Serde<TKey> keySerde, Serde<T> valueSerde,
        KafkaPartitioner<T>? partitioner = null) =>
        AddSink(topic, r => keySerde.Serialize(keySelector(r)), valueSerde.Serialize, partitioner);

    /// <summary>
    /// Writes each record's value to <paramref name="topic"/>, keyed by <paramref name="keySelector"/>, to the partition
    /// <paramref name="partitioner"/> gives for the record and the topic's partition count.
    /// </summary>
    public void ToKafka<TKey>(string topic, Func<T, TKey> keySelector, Serde<TKey> keySerde, Serde<T> valueSerde,
        Func<T, int, int> partitioner) =>
        ToKafka(topic, keySelector, keySerde, valueSerde, KafkaPartitioner.Of(partitioner));

    /// <summary>
    /// Writes a key and a value taken from each record to <paramref name="topic"/>; to the partition
    /// <paramref name="partitioner"/> chooses, or by the key's hash (the Kafka client's partitioner) when there is none.
    /// </summary>
    public void ToKafka<TKey, TValue>(string topic, Func<T, TKey> keySelector, Serde<TKey> keySerde,
        Func<T, TValue> valueSelector, Serde<TValue> valueSerde, KafkaPartitioner<T>? partitioner = null) =>
        AddSink(topic, r => keySerde.Serialize(keySelector(r)), r => valueSerde.Serialize(valueSelector(r)), partitioner);

    /// <summary>
    /// Writes a key and a value taken from each record to <paramref name="topic"/>, to the partition
    /// <paramref name="partitioner"/> gives for the record and the topic's partition count.
    /// </summary>
    public void ToKafka<TKey, TValue>(string topic, Func<T, TKey> keySelector, Serde<TKey> keySerde,
        Func<T, TValue> valueSelector, Serde<TValue> valueSerde, Func<T, int, int> partitioner) =>
        ToKafka(topic, keySelector, keySerde, valueSelector, valueSerde, KafkaPartitioner.Of(partitioner));

    private void AddSink(string topic, Func<T, byte[]?> key, Func<T, byte[]?> value, KafkaPartitioner<T>? partitioner)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        _consumers.Add((context, task) =>
        {
            var sink = new KafkaSink<T>(context.Options, topic, key, value, context.Abort, context.ExactlyOnceOutput,
                partitioner?.OpenFor(task.Subtask, context.Options.Parallelism));
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

/// <summary>A side output stream, seen without its record type.</summary>
internal interface ISideOutputStream
{
    IStreamControl BuildSideChain(JobContext context, TaskInfo task);
}
