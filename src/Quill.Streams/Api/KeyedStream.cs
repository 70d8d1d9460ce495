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
    /// <summary>The lanes of the stream keyed: each upstream task sends once per lane.</summary>
    private readonly int _lanes;

    internal KeyedStream(StreamJob job, Func<T, TKey> keySelector, int lanes)
    {
        _keySelector = keySelector;
        _lanes = lanes;
        _input = new DataStream<T>(job);
        job.AddStage(this);
    }

    /// <summary>Runs a keyed function; <paramref name="createFunction"/> makes one instance per task.</summary>
    public DataStream<TOut> Process<TOut>(Func<KeyedProcessFunction<TKey, T, TOut>> createFunction)
    {
        var output = new DataStream<TOut>(_input.Job, hasSideOutputs: true);
        string operatorId = _input.Job.NextOperatorId("process");
        _input.AddConsumer((context, task) => new KeyedProcessOperator<TKey, T, TOut>(
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
    public DataStream<T> Reduce(Func<T, T, T> reduce) => Process<T>((value, context) =>
    {
        var state = context.State.GetReducingState("reduce", reduce);
        state.Add(value);
        context.Emit(state.Value!);
    });

    /// <summary>
    /// Cuts each key's records into windows of event time: <see cref="Time.TumblingEventTimeWindows"/>,
    /// <see cref="Time.SlidingEventTimeWindows"/> or <see cref="Time.EventTimeSessionWindows"/>.
    /// </summary>
    public WindowedStream<TKey, T> Window(Time.WindowAssigner windows) => new(this, windows);

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
            // Every stage has the same parallelism, so each keyed task hears from that many senders per lane.
            var task = new KeyedTask<T>(mailboxes[i], context.Options.Parallelism * _lanes, context.Options.TimeProvider, context.Checkpoints);
            task.Chain = _input.BuildChain(context, new TaskInfo(i, task));
            tasks.Add(task);
        }
        return Task.FromResult<IReadOnlyList<IJobTask>>(tasks);
    }
}
