using Quill.Streams.Checkpoints;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Runtime;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Api;

/// <summary>
/// A job: sources, transformations and sinks declared through the fluent API (Flink's StreamExecutionEnvironment),
/// then run with <see cref="RunAsync"/>. Each stage runs <see cref="StreamJobOptions.Parallelism"/> tasks in this
/// process: Map, Filter and FlatMap run in the task of what feeds them; KeyBy sends each record over a channel to the
/// task that owns its key.
/// </summary>
public sealed class StreamJob
{
    private readonly List<IStage> _stages = [];
    private int _runs;
    private int _operatorCount;
    /// <summary>Where an exactly-once job keeps its commit marker (its first source topic: one that exists).</summary>
    private string? _markerTopic;

    private StreamJob(StreamJobOptions options)
    {
        options.Validate();
        Options = options;
    }

    public static StreamJob Create(StreamJobOptions options) => new(options);

    public static StreamJob Create(string bootstrapServers, string jobName = "job", int parallelism = 1) =>
        new(new StreamJobOptions { BootstrapServers = bootstrapServers, JobName = jobName, Parallelism = parallelism });

    public StreamJobOptions Options { get; }

    /// <summary>Reads <paramref name="topics"/>: each record with its place, timestamp, key and value.</summary>
    public DataStream<KafkaRecord<TKey, TValue>> FromKafka<TKey, TValue>(IEnumerable<string> topics, StartFrom start,
        Serde<TKey> keySerde, Serde<TValue> valueSerde, WatermarkStrategy<KafkaRecord<TKey, TValue>>? watermarks = null)
    {
        var topicList = topics.ToList();
        if (topicList.Count == 0) throw new ArgumentException("a source needs at least one topic", nameof(topics));
        var stream = new DataStream<KafkaRecord<TKey, TValue>>(this);
        _markerTopic ??= topicList[0];
        _stages.Add(new KafkaSourceStage<TKey, TValue>(NextOperatorId("source"), topicList, start, keySerde, valueSerde, watermarks, stream));
        return stream;
    }

    /// <summary>Reads the values of <paramref name="topic"/> (keys are ignored).</summary>
    public DataStream<TValue> FromKafka<TValue>(string topic, Serde<TValue> valueSerde, StartFrom start = StartFrom.Earliest,
        WatermarkStrategy<TValue>? watermarks = null)
    {
        WatermarkStrategy<KafkaRecord<byte[]?, TValue>>? recordWatermarks = null;
        if (watermarks is not null)
        {
            var assigner = watermarks.TimestampAssigner;
            recordWatermarks = WatermarkStrategy<KafkaRecord<byte[]?, TValue>>.ForBoundedOutOfOrderness(watermarks.MaxOutOfOrderness);
            if (assigner is not null) recordWatermarks = recordWatermarks.WithTimestampAssigner((r, kafkaTimestamp) => assigner(r.Value, kafkaTimestamp));
            if (watermarks.Idleness is { } idleness) recordWatermarks = recordWatermarks.WithIdleness(idleness);
        }
        return FromKafka([topic], start, Serdes.Bytes, valueSerde, recordWatermarks).Map(r => r.Value);
    }

    /// <summary>
    /// A table of <paramref name="topic"/> (Kafka Streams' KTable; the topic is usually compacted): each key's latest
    /// value, a null value deleting the key; records with a null key are skipped. It is read from the earliest offset
    /// (or a checkpoint's), and the job's other sources start reading only once it has been read to its end. Join a
    /// keyed stream with it: <see cref="KeyedStream{TKey,T}.Join{TValue,TOut}"/>, <see cref="KeyedStream{TKey,T}.LeftJoin{TValue,TOut}"/>.
    /// </summary>
    public KafkaTable<TKey, TValue> TableFromKafka<TKey, TValue>(string topic, Serde<TKey> keySerde, Serde<TValue> valueSerde) where TKey : notnull
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        var records = new DataStream<KafkaRecord<byte[]?, byte[]?>>(this);
        _markerTopic ??= topic;
        _stages.Add(new KafkaSourceStage<byte[]?, byte[]?>(NextOperatorId("table"), [topic], StartFrom.Earliest, Serdes.Bytes, Serdes.Bytes,
            null, records, isTable: true));
        var updates = records.Filter(r => r.Key is not null)
            .Map(r => new TableUpdate<TKey, TValue>(keySerde.Deserialize(r.Key), r.Value is null, r.Value is null ? default! : valueSerde.Deserialize(r.Value)));
        return new KafkaTable<TKey, TValue>(updates);
    }

    internal void AddStage(IStage stage) => _stages.Add(stage);

    /// <summary>
    /// Operators are named by their place in the job's definition, so the same definition run again finds its
    /// checkpointed state under the same names.
    /// </summary>
    internal string NextOperatorId(string kind) => $"{kind}-{++_operatorCount}";

    /// <summary>
    /// Runs the job until <paramref name="stop"/>, then stops it cleanly: the sources stop reading, everything read
    /// flows through to the sinks, which flush, and the sources commit their positions to the job's consumer group.
    /// Fails with the first task's failure (the other tasks are stopped). A job runs once.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        if (Interlocked.Exchange(ref _runs, 1) != 0) throw new InvalidOperationException("a job runs once");
        if (!_stages.Any(s => s is ISourceStage)) throw new InvalidOperationException("the job has no source");
        using var abort = new CancellationTokenSource();
        var storage = Options.CheckpointDirectory is { } directory ? new CheckpointStorage(directory) : null;
        // Exactly-once decides which checkpoint to restore (the newest whose output committed); JobRunner disposes it.
        var output = storage is not null && Options.ExactlyOnce
            ? await Task.Run(() => ExactlyOnceOutput.Open(Options, storage, _markerTopic!), stop)
            : null;
        using var checkpoints = storage is not null
            ? new CheckpointCoordinator(storage, Options.CheckpointInterval, Options.TimeProvider, output is null ? storage.LoadLatest() : output.Restored, output)
            : null;
        var context = new JobContext(Options, abort.Token, checkpoints, output);
        if (output is not null) context.Resources.Add(output);
        await JobRunner.RunAsync(context, abort, _stages, stop);
    }
}
