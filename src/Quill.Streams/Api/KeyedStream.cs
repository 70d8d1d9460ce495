using System.Threading.Channels;
using Quill.Streams.Runtime;

namespace Quill.Streams.Api;

/// <summary>
/// A stream partitioned by key (<see cref="DataStream{T}.KeyBy{TKey}"/>): a stage of its own, whose tasks each own the
/// keys that hash to them and run keyed functions with state and timers.
/// </summary>
public sealed class KeyedStream<TKey, T> : IStage where TKey : notnull
{
    private readonly Func<T, TKey> _keySelector;
    /// <summary>The records as the keyed tasks receive them.</summary>
    private readonly DataStream<T> _input;
    /// <summary>The stream keyed (before the shuffle): joins key it again together with their other input.</summary>
    private readonly DataStream<T> _upstream;
    private bool _staged;

    internal KeyedStream(DataStream<T> upstream, Func<T, TKey> keySelector)
    {
        _upstream = upstream;
        _keySelector = keySelector;
        _input = new DataStream<T>(upstream.Job);
    }

    internal DataStream<T> Upstream => _upstream;
    internal Func<T, TKey> KeySelector => _keySelector;

    /// <summary>
    /// The stream becomes a stage (its shuffle and keyed tasks) once something runs on it; a keyed stream only joined
    /// is keyed again with the other input instead (<see cref="IntervalJoin{TOther}"/>, <see cref="Join{TValue,TOut}"/>).
    /// </summary>
    private DataStream<T> Input
    {
        get
        {
            if (_staged) return _input;
            _staged = true;
            _upstream.AddConsumer((context, task) =>
            {
                int sender = task.Lane * context.Options.Parallelism + task.Subtask;
                var mailboxes = context.WritersOf<T>(this, sender);
                // Batches go only to the mailboxes in this process (the others are connections to another process).
                var local = context.MailboxesOf<T>(this);
                return new KeyedShuffle<TKey, T>(_keySelector, mailboxes, sender, context.Abort,
                    KeyedShuffle<TKey, T>.BatchSizeFor(context.Options.MailboxCapacity),
                    [.. mailboxes.Select((writer, i) => ReferenceEquals(writer, local[i].Writer))]);
            });
            _upstream.Job.AddStage(this);
            return _input;
        }
    }

    /// <summary>Runs a keyed function; <paramref name="createFunction"/> makes one instance per task.</summary>
    public DataStream<TOut> Process<TOut>(Func<KeyedProcessFunction<TKey, T, TOut>> createFunction)
    {
        var output = new DataStream<TOut>(_input.Job, hasSideOutputs: true);
        string operatorId = _input.Job.NextOperatorId("process");
        output.OperatorId = operatorId;
        Input.AddConsumer((context, task) => new KeyedProcessOperator<TKey, T, TOut>(
            createFunction(), _keySelector, operatorId, context, task, output.BuildChain(context, task), output.BuildSideOutputs(context, task)));
        return output;
    }

    /// <summary>
    /// Runs <paramref name="process"/> for each record (and <paramref name="onTimer"/> for each timer); state comes from
    /// the context's <see cref="KeyedContext{TKey,TOut}.State"/>.
    /// </summary>
    public DataStream<TOut> Process<TOut>(Action<T, KeyedContext<TKey, TOut>> process, Action<long, KeyedContext<TKey, TOut>>? onTimer = null) =>
        Process(() => new DelegateKeyedProcessFunction<TKey, T, TOut>(null, process, onTimer));

    /// <summary>A running reduce: emits, for each record, its key's value folded so far (Flink's KeyedStream.reduce).</summary>
    public DataStream<T> Reduce(Func<T, T, T> reduce) => Process(() => new ReduceFunction(reduce));

    /// <summary>
    /// Reduce's function, one per task: it asks for its state at its first record, as before, and then keeps it instead
    /// of looking it up by name for every record (the store gives the same state for a name every time).
    /// </summary>
    private sealed class ReduceFunction(Func<T, T, T> reduce) : KeyedProcessFunction<TKey, T, T>
    {
        private State.IReducingState<T>? _state;

        public override void ProcessElement(T value, KeyedContext<TKey, T> context)
        {
            var state = _state ??= context.State.GetReducingState("reduce", reduce);
            state.Add(value);
            context.Emit(state.Value!);
        }
    }

    /// <summary>
    /// Cuts each key's records into windows of event time: <see cref="Time.TumblingEventTimeWindows"/>,
    /// <see cref="Time.SlidingEventTimeWindows"/> or <see cref="Time.EventTimeSessionWindows"/>.
    /// </summary>
    public WindowedStream<TKey, T> Window(Time.WindowAssigner windows) => new(this, windows);

    /// <summary>
    /// Joins each record with the records of <paramref name="other"/> of the same key within a time interval of it
    /// (Flink's interval join): <c>.IntervalJoin(other).Between(lower, upper).Process((a, b) => ...)</c>.
    /// </summary>
    public IntervalJoin<TKey, T, TOther> IntervalJoin<TOther>(KeyedStream<TKey, TOther> other) => new(this, other);

    /// <summary>
    /// Joins each record with <paramref name="table"/>'s current value for its key (Kafka Streams' stream-table inner
    /// join): a record whose key has no value (none yet, or deleted) gives nothing. Table updates give no output.
    /// </summary>
    public DataStream<TOut> Join<TValue, TOut>(KafkaTable<TKey, TValue> table, Func<T, TValue, TOut> join) =>
        JoinTable(table, (record, value) => join(record, value!), inner: true);

    /// <summary>As <see cref="Join{TValue,TOut}"/>, but a record whose key has no value is joined with default (null).</summary>
    public DataStream<TOut> LeftJoin<TValue, TOut>(KafkaTable<TKey, TValue> table, Func<T, TValue?, TOut> join) =>
        JoinTable(table, join, inner: false);

    private DataStream<TOut> JoinTable<TValue, TOut>(KafkaTable<TKey, TValue> table, Func<T, TValue?, TOut> join, bool inner) =>
        JoinInput<T, TableUpdate<TKey, TValue>>.KeyTogether(_upstream, _keySelector, table.Updates, update => update.Key)
            .Process(() => new TableJoinFunction<TKey, T, TValue, TOut>(join, inner, waitsForTable: !table.HasEventTime));

    /// <summary>
    /// Joins each record with the value its key had in <paramref name="table"/> at the record's event time (Flink's
    /// event-time temporal join, <c>FOR SYSTEM_TIME AS OF</c> a versioned table): the table's latest update of the key
    /// with a timestamp at or before the record's, whenever that update was read. The table must be read with a
    /// watermark strategy (<see cref="StreamJob.TableFromKafka{TKey,TValue}"/>), and this stream must have event time.
    /// A record waits in keyed state until the watermark (the minimum over the stream and the table) reaches its
    /// timestamp, then is joined and emitted with its own timestamp; a record whose key has no value then (none yet,
    /// or deleted) gives nothing. Table updates give no output; versions older than the one valid at the watermark are
    /// dropped. A record at or below the watermark when it comes is joined, as Flink does, at the next watermark with
    /// the versions still held: the right one if its key's version at the watermark began at or before the record.
    /// A deleted key keeps its tombstone (so a late update older than the deletion cannot bring it back) for good, or,
    /// with <paramref name="deletedKeyRetention"/> (as a versioned store's history retention in Kafka Streams), until
    /// the watermark is that far past the deletion: then the key's state is gone, so key churn does not grow it.
    /// </summary>
    public DataStream<TOut> TemporalJoin<TValue, TOut>(KafkaTable<TKey, TValue> table, Func<T, TValue, TOut> join, TimeSpan? deletedKeyRetention = null) =>
        JoinTemporal(table, (record, value) => join(record, value!), inner: true, deletedKeyRetention);

    /// <summary>
    /// As <see cref="TemporalJoin{TValue,TOut}"/>, but a record whose key has no value at its time is joined with
    /// default (null) (Flink's <c>LEFT JOIN ... FOR SYSTEM_TIME AS OF</c>).
    /// </summary>
    public DataStream<TOut> TemporalLeftJoin<TValue, TOut>(KafkaTable<TKey, TValue> table, Func<T, TValue?, TOut> join, TimeSpan? deletedKeyRetention = null) =>
        JoinTemporal(table, join, inner: false, deletedKeyRetention);

    private DataStream<TOut> JoinTemporal<TValue, TOut>(KafkaTable<TKey, TValue> table, Func<T, TValue?, TOut> join, bool inner, TimeSpan? deletedKeyRetention)
    {
        if (deletedKeyRetention < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(deletedKeyRetention), "a retention is not negative");
        long? retentionMs = deletedKeyRetention is { } retention ? (long)retention.TotalMilliseconds : null;
        if (!table.HasEventTime)
            throw new ArgumentException("a temporal join needs a versioned table: read it with a watermark strategy "
                + "(TableFromKafka(topic, keySerde, valueSerde, watermarks))", nameof(table));
        return JoinInput<T, TableUpdate<TKey, TValue>>.KeyTogether(_upstream, _keySelector, table.Updates, update => update.Key)
            .Process(() => new TemporalJoinFunction<TKey, T, TValue, TOut>(join, inner, retentionMs));
    }

    void IStage.CreateChannels(JobContext context)
    {
        var options = new BoundedChannelOptions(context.Options.MailboxCapacity) { SingleReader = true, SingleWriter = false };
        var mailboxes = Enumerable.Range(0, context.Options.Parallelism).Select(_ => Channel.CreateBounded<StreamElement<T>>(options)).ToArray();
        context.AddMailboxes(this, mailboxes);
    }

    Task<IReadOnlyList<IJobTask>> IStage.CreateTasksAsync(JobContext context)
    {
        var mailboxes = context.MailboxesOf<T>(this);
        var tasks = new List<IJobTask>(mailboxes.Length);
        for (int i = 0; i < mailboxes.Length; i++)
        {
            if (!context.RunsSubtask(i)) continue; // another process runs it (scale-out)
            // Every stage has the same parallelism, so each keyed task hears from that many senders per lane.
            var task = new KeyedTask<T>(mailboxes[i], context.Options.Parallelism * _upstream.Lanes, context.Options.TimeProvider, context.Checkpoints);
            task.Chain = _input.BuildChain(context, new TaskInfo(i, task, Snapshots: task.Snapshots));
            tasks.Add(task);
        }
        return Task.FromResult<IReadOnlyList<IJobTask>>(tasks);
    }
}
