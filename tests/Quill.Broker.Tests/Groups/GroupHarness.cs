using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Groups;
using Quill.Broker.Handlers;
using Quill.Broker.Handlers.Groups;
using Quill.Broker.Log;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

using Quill.Broker.Tests.Handlers;

namespace Quill.Broker.Tests.Groups;

/// <summary>
/// A group coordinator over real partition logs of <c>__consumer_offsets</c> in a temp dir, with a fake clock,
/// and its handlers. Requests go through the wire: built with the protocol library, encoded, decoded, handled,
/// and the response encoded and decoded again in the same version, as a client would read it.
/// </summary>
public sealed class GroupHarness : IDisposable
{
    public const int Partitions = 3;
    private readonly bool _ownsDir;
    private readonly Func<IOffsetsLog, IOffsetsLog> _wrapLog;
    private int _correlationId;
    private Dictionary<ApiKey, IRequestHandler> _handlers = [];

    public GroupHarness(GroupCoordinatorOptions? options = null, FakeTimeProvider? clock = null, string? dir = null, bool start = true,
        Func<string, int, bool>? partitionExists = null, Func<IOffsetsLog, IOffsetsLog>? wrapLog = null)
    {
        _wrapLog = wrapLog ?? (log => log);
        Options = options ?? new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0 };
        Clock = clock ?? FakeClocks.New();
        _ownsDir = dir is null;
        Dir = dir ?? Path.Combine(Path.GetTempPath(), "quill-groups-" + Guid.NewGuid().ToString("N"));
        PartitionExists = partitionExists;
        Open(start);
    }

    public GroupCoordinatorOptions Options { get; }
    public FakeTimeProvider Clock { get; }
    public string Dir { get; }
    public Func<string, int, bool>? PartitionExists { get; }
    public LogManager Logs { get; private set; } = null!;
    public PartitionOffsetsLog OffsetsLog { get; private set; } = null!;
    public GroupCoordinator Coordinator { get; private set; } = null!;
    public static TestBroker Broker { get; } = new(7, "127.0.0.1", 19092);

    private void Open(bool start)
    {
        Logs = new LogManager(Dir, LogConfig.Default, Clock);
        OffsetsLog = PartitionOffsetsLog.Open(Logs, Partitions);
        Coordinator = new GroupCoordinator(_wrapLog(OffsetsLog), Options, Clock);
        _handlers = GroupHandlers.Create(Coordinator, Broker, PartitionExists).ToDictionary(h => h.ApiKey);
        if (start) Wait(Coordinator.StartAsync());
    }

    /// <summary>Stops the coordinator and closes the logs, then builds everything again from the same dir.</summary>
    public void Restart()
    {
        Wait(Coordinator.DisposeAsync().AsTask());
        Logs.Dispose();
        Open(start: true);
    }

    /// <summary>
    /// Advances the clock once the shards have handled the requests already sent (FakeTimeProvider can miss a timer
    /// created while it advances); the timers due by then fire, and this returns once the shards have handled what
    /// they posted (and what that armed for a deadline already past).
    /// </summary>
    public void Advance(long ms)
    {
        WaitIdle();
        Clock.Advance(ms);
        WaitIdle();
    }

    private void WaitIdle()
    {
        if (!Coordinator.WhenIdleAsync().Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("the group coordinator's shards stayed busy");
    }

    public IReadOnlyCollection<ApiKey> HandledApis => _handlers.Keys;

    /// <summary>Sends a request body (built by <paramref name="build"/>) and returns the decoded response.</summary>
    public Task<StructValue> Send(ApiKey key, short version, Action<StructValue> build, string clientId = "test-client")
    {
        var api = KafkaApis.Get(key);
        var body = api.Request.New();
        build(body);
        using var requestWriter = new KafkaWriter();
        KafkaFrames.WriteRequest(requestWriter, new RequestHeader((short)key, version, ++_correlationId, clientId), body);
        return HandlerCall.InvokeAsync(_handlers[api.Key], requestWriter.ToArray().AsMemory(4));
    }

    /// <summary>The harness is built in constructors and disposed by `using`, which cannot await: it waits here.</summary>
    private static void Wait(Task task)
    {
        if (!task.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("the group coordinator did not start or stop");
        task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        Wait(Coordinator.DisposeAsync().AsTask());
        Logs.Dispose();
        if (_ownsDir)
        {
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        }
    }
}

public sealed record TestBroker(int NodeId, string Host, int Port) : IBrokerIdentity;

/// <summary>Errors read from a response, for asserts.</summary>
public static class Errors
{
    public static KafkaError Of(StructValue value) => (KafkaError)value.GetInt16("ErrorCode");
}
