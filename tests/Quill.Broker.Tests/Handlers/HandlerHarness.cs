using Microsoft.Extensions.Logging.Abstractions;
using Quill.Broker.Handlers;
using Quill.Broker.Log;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Broker.Tests.Log;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// Broker services over real partition logs in a temp dir, without Keeper or a controller (those stay null, so only
/// handlers that read metadata and partitions can run here). Requests go through the wire: encoded, decoded,
/// handled, and the response encoded and decoded again in the same version, as a client would read it.
/// </summary>
public sealed class HandlerHarness : IDisposable
{
    private readonly TempDir _dir = new();

    public HandlerHarness()
    {
        Replicas = new ReplicaManager([_dir.Path], LogConfig.Default, _ => LogConfig.Default, TimeProvider.System, NullLogger.Instance);
        Services = new BrokerServices
        {
            Options = new BrokerOptions(),
            Metadata = new MetadataCache(),
            Replicas = Replicas,
            Loggers = NullLoggerFactory.Instance,
            Time = TimeProvider.System,
            DynamicConfig = null!,
            Controller = null!,
            ProducerIds = null!,
            Zk = null!,
            Metrics = new(),
        };
    }

    public ReplicaManager Replicas { get; }
    public BrokerServices Services { get; }

    /// <summary>
    /// Sends a request built in the interpreted form; a handler of the generated classes gets it read by them and its
    /// answer is read back in the interpreted form, so one test checks both encodings agree.
    /// </summary>
    public async Task<StructValue> Send(IRequestHandler handler, short version, Action<StructValue> build)
    {
        var api = KafkaApis.Get(handler.ApiKey);
        var body = api.Request.New();
        build(body);
        using var requestWriter = new KafkaWriter();
        KafkaFrames.WriteRequest(requestWriter, new RequestHeader((short)handler.ApiKey, version, 1, "test"), body);
        var frame = requestWriter.ToArray().AsMemory(4);
        return await HandlerCall.InvokeAsync(handler, frame);
    }

    public void Dispose()
    {
        Replicas.Dispose();
        _dir.Dispose();
    }
}
