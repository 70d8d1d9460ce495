using System.Net.Sockets;
using System.Threading.Channels;
using Quill.Streams.Runtime;

namespace Quill.Streams.Cluster;

/// <summary>
/// This process's part of one generation of a job spread over several (scale-out): which subtasks it runs, where each
/// other subtask runs, the data channels in and out, and (in the leader) the followers' control connections. Any
/// channel that breaks fails the whole generation (<see cref="Fail"/>): the leader then starts the next one from the
/// newest checkpoint. Disposing it closes every connection of the generation.
/// </summary>
internal sealed class ClusterRun : IGenerationEndpoint, IDisposable
{
    private readonly DataEndpoint _endpoint;
    private readonly CancellationTokenSource _abort;
    private readonly CancellationToken _abortToken;
    private readonly HashSet<int> _local;
    private readonly int _mailboxCapacity;
    private readonly Dictionary<object, int> _edgeIds = new(ReferenceEqualityComparer.Instance);
    private readonly List<IEdgeReceiver> _edges = [];
    private readonly List<IDisposable> _connections = [];
    private readonly Lock _lock = new();
    private bool _disposed;

    public ClusterRun(Assignment assignment, string instanceId, DataEndpoint endpoint, int mailboxCapacity, CancellationTokenSource abort)
    {
        Assignment = assignment;
        InstanceId = instanceId;
        _endpoint = endpoint;
        _mailboxCapacity = mailboxCapacity;
        _abort = abort;
        _abortToken = abort.Token;
        _local = [.. assignment.Of(instanceId)?.Subtasks ?? []];
    }

    /// <summary>From now on the endpoint hands this generation its connections (set <see cref="Control"/> before).</summary>
    public void Listen() => _endpoint.Register(Generation, this);

    public Assignment Assignment { get; }
    public string InstanceId { get; }
    public long Generation => Assignment.Generation;

    /// <summary>The leader's side of the followers' control connections; null in a follower.</summary>
    public LeaderControl? Control { get; set; }

    /// <summary>
    /// Exactly-once, in the leader: the job's transactional output, into which the followers' sink tasks write through
    /// their connections (set before <see cref="Listen"/>); null otherwise.
    /// </summary>
    public Connectors.Kafka.ExactlyOnceOutput? Output { get; set; }

    /// <summary>Exactly-once, in a follower: a sink task's writer, a connection of its own to the leader (closed with the generation).</summary>
    public SinkForwarder OpenSinkForwarder(CancellationToken abort)
    {
        var leader = Assignment.Of(Assignment.Leader) ?? throw new InvalidOperationException($"the leader {Assignment.Leader} runs no part of generation {Generation}");
        int sender;
        lock (_lock) sender = _sinkForwarders++;
        var hello = new Hello { Kind = Hello.Sink, Generation = Generation, Instance = InstanceId, Sender = sender };
        var forwarder = new SinkForwarder(leader.Endpoint ?? throw new InvalidOperationException($"the leader {leader.Instance} has no data endpoint"),
            hello, _mailboxCapacity, Fail, abort);
        Track(forwarder);
        return forwarder;
    }

    private int _sinkForwarders;

    /// <summary>Whether another process runs part of this generation.</summary>
    public bool HasRemote => Assignment.Instances.Any(i => i.Instance != InstanceId);

    /// <summary>The first failure of the generation (a channel broke, a follower failed or left); null so far.</summary>
    public Exception? Failure { get; private set; }

    public bool RunsSubtask(int subtask) => _local.Contains(subtask);

    /// <summary>Every stage has a subtask of each index, wherever it runs: what the leader's coordinator waits for.</summary>
    public int TaskCount(int stages) => stages * Assignment.Parallelism;

    /// <summary>Ends the generation here: the first failure is kept, and every task of this process is aborted.</summary>
    public void Fail(Exception failure)
    {
        lock (_lock)
        {
            if (_disposed || Failure is not null) return;
            Failure = failure;
        }
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>A keyed stage's mailboxes (in stage order, the same in every process: the edge's id is its place).</summary>
    public void AddEdge<T>(object stage, Channel<StreamElement<T>>[] mailboxes)
    {
        lock (_lock)
        {
            _edgeIds.Add(stage, _edges.Count);
            _edges.Add(new EdgeReceiver<T>(mailboxes));
        }
    }

    /// <summary>
    /// The writers a sending subtask uses to reach each task of a keyed stage: the local mailbox for the tasks here, a
    /// channel of its own over TCP for each task elsewhere.
    /// </summary>
    public ChannelWriter<StreamElement<T>>[] WritersOf<T>(object stage, int sender, Channel<StreamElement<T>>[] mailboxes, CancellationToken abort)
    {
        int edge;
        lock (_lock) edge = _edgeIds[stage];
        var writers = new ChannelWriter<StreamElement<T>>[mailboxes.Length];
        for (int target = 0; target < mailboxes.Length; target++)
        {
            if (RunsSubtask(target))
            {
                writers[target] = mailboxes[target].Writer;
                continue;
            }
            var owner = Assignment.OwnerOf(target);
            var hello = new Hello { Kind = Hello.Data, Generation = Generation, Edge = edge, Sender = sender, Target = target };
            var remote = new RemoteChannelWriter<T>(owner.Endpoint ?? throw new InvalidOperationException($"instance {owner.Instance} has no data endpoint"),
                hello, _mailboxCapacity, Fail, abort);
            Track(remote);
            writers[target] = remote;
        }
        return writers;
    }

    /// <summary>Closed with the generation.</summary>
    public void Track(IDisposable connection)
    {
        bool disposed;
        lock (_lock)
        {
            disposed = _disposed;
            if (!disposed) _connections.Add(connection);
        }
        if (disposed) connection.Dispose();
    }

    bool IGenerationEndpoint.Accepts(Hello hello) => hello.Kind switch
    {
        Hello.Data => RunsSubtask(hello.Target) && hello.Edge >= 0,
        Hello.Control => Control?.Expects(hello.Instance) == true,
        Hello.Sink => Output is not null && hello.Instance != InstanceId && Assignment.Of(hello.Instance ?? "") is not null,
        _ => false,
    };

    private int EdgeCount
    {
        get
        {
            lock (_lock) return _edges.Count;
        }
    }

    async Task IGenerationEndpoint.ServeAsync(Hello hello, Socket socket, Stream stream)
    {
        Track(stream);
        if (hello.Kind == Hello.Control)
        {
            await Control!.ServeAsync(hello.Instance!, stream);
            return;
        }
        if (hello.Kind == Hello.Sink)
        {
            try
            {
                await SinkReceiver.ReceiveAsync(stream, Output!, _abortToken);
            }
            catch (Exception e) when (!_abort.IsCancellationRequested)
            {
                Fail(e);
            }
            return;
        }
        try
        {
            // The stages here may still be building their mailboxes: the edge exists once they have.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (EdgeCount <= hello.Edge)
            {
                if (DateTime.UtcNow > deadline) throw new InvalidDataException($"no keyed stage {hello.Edge} here ({hello})");
                await Task.Delay(20, _abortToken);
            }
            IEdgeReceiver edge;
            lock (_lock) edge = _edges[hello.Edge];
            await edge.ReceiveAsync(stream, hello.Target, hello.Sender, _abortToken);
        }
        catch (Exception e) when (!_abort.IsCancellationRequested)
        {
            Fail(e);
        }
    }

    public void Dispose()
    {
        List<IDisposable> connections;
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            connections = [.. _connections];
            _connections.Clear();
        }
        _endpoint.Unregister(Generation, this);
        Control?.Dispose();
        foreach (var connection in connections)
        {
            try
            {
                connection.Dispose();
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
