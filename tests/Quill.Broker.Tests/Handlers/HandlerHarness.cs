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
        };
    }

    public ReplicaManager Replicas { get; }
    public BrokerServices Services { get; }

    public async Task<StructValue> Send(IApiHandler handler, short version, Action<StructValue> build)
    {
        var api = KafkaApis.Get(handler.ApiKey);
        var body = api.Request.New();
        build(body);
        using var requestWriter = new KafkaWriter();
        KafkaFrames.WriteRequest(requestWriter, new RequestHeader((short)handler.ApiKey, version, 1, "test"), body);
        var request = KafkaFrames.DecodeRequest(requestWriter.ToArray().AsMemory(4));
        var response = await handler.HandleAsync(new RequestContext(request, "127.0.0.1:50000", 1), CancellationToken.None);
        using var responseWriter = new KafkaWriter();
        KafkaFrames.WriteResponse(responseWriter, api, version, 1, response);
        var (correlationId, decoded) = KafkaFrames.DecodeResponse(responseWriter.ToArray().AsMemory(4), api, version);
        Assert.Equal(1, correlationId);
        return decoded;
    }

    public void Dispose()
    {
        Replicas.Dispose();
        _dir.Dispose();
    }
}
