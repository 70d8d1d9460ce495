using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// Answers one Kafka API. One handler per API (Kafka's KafkaApis split); the network layer decodes the request,
/// finds the handler by API key, and encodes whatever body it returns with the request's version and correlation id.
/// A handler returns Kafka's error codes in the places Kafka puts them; an exception means "close the connection".
/// <para>
/// Handlers of one connection are called in request order, each call starting once the previous one has returned its
/// ValueTask (not necessarily completed): work done before a handler's first await happens in request order, and
/// responses go out in request order whatever order the tasks complete in.
/// </para>
/// </summary>
public interface IApiHandler
{
    ApiKey ApiKey { get; }
    ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken);
}

/// <summary>What a handler knows about the request it answers.</summary>
public sealed class RequestContext(KafkaRequest request, string clientAddress, long connectionId)
{
    private List<byte[]>? _pooled;

    public KafkaRequest Request { get; } = request;
    public short Version => Request.Version;
    public string? ClientId => Request.Header.ClientId;
    public StructValue Body => Request.Body;
    public string ClientAddress { get; } = clientAddress;
    public long ConnectionId { get; } = connectionId;

    /// <summary>Set by a handler when Kafka sends no response at all (Produce with acks=0).</summary>
    public bool NoResponse { get; set; }

    /// <summary>Set by a handler to close the connection after its response (or instead of it, with <see cref="NoResponse"/>).</summary>
    public bool CloseConnection { get; set; }

    /// <summary>A response body for this request's API, every field at its default.</summary>
    public StructValue NewResponse() => Request.Api.Response.New();

    /// <summary>
    /// Hands a buffer rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (e.g. records a fetch read from a
    /// log, referenced by the response) to the connection, which returns it once the response has been encoded.
    /// </summary>
    public void ReturnAfterResponse(byte[] pooled) => (_pooled ??= []).Add(pooled);

    internal void ReleasePooled()
    {
        if (_pooled is null) return;
        foreach (var buffer in _pooled) System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        _pooled = null;
    }
}
