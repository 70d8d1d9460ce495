using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// Answers one Kafka API. One handler per API (Kafka's KafkaApis split); the network layer decodes the request,
/// finds the handler by API key, and encodes whatever body it returns with the request's version and correlation id.
/// A handler returns Kafka's error codes in the places Kafka puts them; an exception means "close the connection".
/// </summary>
public interface IApiHandler
{
    ApiKey ApiKey { get; }
    ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken);
}

/// <summary>What a handler knows about the request it answers.</summary>
public sealed class RequestContext(KafkaRequest request, string clientAddress, long connectionId)
{
    public KafkaRequest Request { get; } = request;
    public short Version => Request.Version;
    public string? ClientId => Request.Header.ClientId;
    public StructValue Body => Request.Body;
    public string ClientAddress { get; } = clientAddress;
    public long ConnectionId { get; } = connectionId;

    /// <summary>A response body for this request's API, every field at its default.</summary>
    public StructValue NewResponse() => Request.Api.Response.New();
}
