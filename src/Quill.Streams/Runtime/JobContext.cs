using System.Threading.Channels;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Time;

namespace Quill.Streams.Runtime;

/// <summary>
/// What building a running job shares: the options, the abort token, the checkpoints, the exactly-once output, each
/// keyed stage's mailboxes, the resources to release.
/// </summary>
internal sealed class JobContext(StreamJobOptions options, CancellationToken abort, CheckpointCoordinator? checkpoints,
    ExactlyOnceOutput? exactlyOnceOutput = null)
{
    private readonly Dictionary<object, object> _mailboxes = [];

    public StreamJobOptions Options { get; } = options;
    /// <summary>Cancelled when any task fails: every task then stops where it is.</summary>
    public CancellationToken Abort { get; } = abort;

    /// <summary>Null when the job takes no checkpoints.</summary>
    public CheckpointCoordinator? Checkpoints { get; } = checkpoints;

    /// <summary>The sinks' transactional producers when the job is exactly-once; null otherwise.</summary>
    public ExactlyOnceOutput? ExactlyOnceOutput { get; } = exactlyOnceOutput;

    public void AddMailboxes<T>(object stage, Channel<StreamElement<T>>[] mailboxes)
    {
        _mailboxes.Add(stage, mailboxes);
        Cluster?.AddEdge(stage, mailboxes);
    }

    public Channel<StreamElement<T>>[] MailboxesOf<T>(object stage) => (Channel<StreamElement<T>>[])_mailboxes[stage];

    /// <summary>
    /// Where <paramref name="sender"/> writes to reach each task of a keyed stage: the mailboxes in this process, and,
    /// when the job is spread over processes (<see cref="Cluster"/>), a connection to the process that runs the task.
    /// </summary>
    public ChannelWriter<StreamElement<T>>[] WritersOf<T>(object stage, int sender) =>
        Cluster?.WritersOf<T>(stage, sender, MailboxesOf<T>(stage), Abort) ?? [.. MailboxesOf<T>(stage).Select(m => m.Writer)];

    /// <summary>The job's part in a job spread over several processes (scale-out); null when it runs whole here.</summary>
    public Cluster.ClusterRun? Cluster { get; init; }

    /// <summary>Whether this process runs subtask <paramref name="subtask"/> of every stage (always, unless spread over processes).</summary>
    public bool RunsSubtask(int subtask) => Cluster?.RunsSubtask(subtask) ?? true;

    /// <summary>Whether the job's table sources have read their topics to the end (the other sources wait for it).</summary>
    public TableBootstrap Tables { get; } = new();

    /// <summary>What the job disposes when it ends, however it ends (producers, timers).</summary>
    public List<IDisposable> Resources { get; } = [];

    /// <summary>This run of <see cref="StreamJobOptions.StateBackend"/>: where the keyed operators get their state stores (closed with the resources).</summary>
    public State.JobStateBackend StateBackend
    {
        get
        {
            lock (Resources)
            {
                if (_stateBackend is null) Resources.Add(_stateBackend = Options.StateBackend.Open(Options.JobName));
                return _stateBackend;
            }
        }
    }

    private State.JobStateBackend? _stateBackend;
}

/// <summary>
/// Which parallel instance a chain is built for, its task's clock and the asynchronous phase of its checkpoints (keyed
/// tasks only have them), and which lane of a union it is (<see cref="Api.DataStream{T}.Union"/>; 0 elsewhere).
/// </summary>
internal readonly record struct TaskInfo(int Subtask, IProcessingTimeScheduler? Clock, int Lane = 0, AsyncSnapshots? Snapshots = null);

/// <summary>A source or a keyed stage: what the job is made of at run time.</summary>
internal interface IStage
{
    /// <summary>First, for every stage, before any chain is built (a chain may write to a later stage's mailboxes).</summary>
    void CreateChannels(JobContext context);

    Task<IReadOnlyList<IJobTask>> CreateTasksAsync(JobContext context);
}

/// <summary>A stage that reads from outside the job.</summary>
internal interface ISourceStage : IStage;

/// <summary>One parallel task of a stage.</summary>
internal interface IJobTask
{
    /// <summary>Runs until its input ends: for a source, until <paramref name="stop"/>; for the others, when every sender has ended.</summary>
    Task RunAsync(CancellationToken stop, CancellationToken abort);

    /// <summary>After every task has finished: release what the task holds; <paramref name="completed"/> if the whole job drained cleanly.</summary>
    void Finish(bool completed);
}
