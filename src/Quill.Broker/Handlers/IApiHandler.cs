using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// Answers one Kafka API. One handler per API (Kafka's KafkaApis split); the network layer decodes the request,
/// finds the handler by API key, and encodes whatever body it returns with the request's version and correlation id.
/// A handler returns Kafka's error codes in the places Kafka puts them; an exception it did not expect is logged and
/// answered UNKNOWN_SERVER_ERROR (<see cref="IApiRequest.ErrorResponse"/>), as Kafka's request handler does, and the
/// connection stays open. Only cancellation (the connection or the broker closing) ends a request unanswered.
/// <para>
/// Handlers of one connection are called in request order, each call starting once the previous one has returned its
/// ValueTask (not necessarily completed): work done before a handler's first await happens in request order, and
/// responses go out in request order whatever order the tasks complete in.
/// </para>
/// <para>
/// Requests and responses are the classes generated from the message descriptions (<c>Quill.Kafka.Messages</c>): a
/// handler never names a field by string. <see cref="ApiHandler{TRequest,TResponse}"/> is the base to write one on.
/// </para>
/// </summary>
public interface IRequestHandler
{
    ApiKey ApiKey { get; }

    ValueTask<IApiResponse> HandleAsync(RequestContext context, CancellationToken cancellationToken);
}

/// <summary>What every handler on the generated classes shares: where its unexpected failures are logged.</summary>
public abstract class ApiHandler : IRequestHandler
{
    public abstract ApiKey ApiKey { get; }

    /// <summary>Set by the broker when it builds its handlers; nothing is logged without it (tests calling a handler directly).</summary>
    public ILogger Log { get; set; } = NullLogger.Instance;

    public abstract ValueTask<IApiResponse> HandleAsync(RequestContext context, CancellationToken cancellationToken);
}

/// <summary>A handler of one API's generated request and response classes.</summary>
public abstract class ApiHandler<TRequest, TResponse> : ApiHandler
    where TRequest : class, IApiRequest
    where TResponse : class, IApiResponse
{
    public abstract ValueTask<TResponse> HandleAsync(TRequest request, RequestContext context, CancellationToken cancellationToken);

    public sealed override async ValueTask<IApiResponse> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var request = (TRequest)context.TypedBody;
        try
        {
            return await HandleAsync(request, context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A cancellation that is not this request's (an internal timeout) is a failure like any other.
            // Kafka's RequestHandlerHelper.handleError: log, answer the request's error response, keep the connection.
            Log.LogError(e, "{Api} v{Version} (correlation id {CorrelationId}) from {Client} (client id {ClientId}) failed; answering UNKNOWN_SERVER_ERROR",
                ApiKey, context.Version, context.Header.CorrelationId, context.ClientAddress, LogSafe.Text(context.ClientId));
            if (request.ErrorResponse(context.Version, KafkaError.UnknownServerError) is { } answer) return answer;
            // No response is expected (acks=0): Kafka closes the connection, the only way to tell such a client.
            context.NoResponse = true;
            context.CloseConnection = true;
            return KafkaMessages.NewResponse(ApiKey);
        }
    }
}

/// <summary>What a handler knows about the request it answers.</summary>
public sealed class RequestContext
{
    private List<byte[]>? _pooled;
    private List<IDisposable>? _held;

    public RequestContext(RequestHeader header, IApiRequest body, string clientAddress, long connectionId)
    {
        TypedBody = body;
        Header = header;
        ClientAddress = clientAddress;
        ConnectionId = connectionId;
    }

    public RequestHeader Header { get; }
    public short Version => Header.ApiVersion;
    public string? ClientId => Header.ClientId;
    public string ClientAddress { get; }
    public long ConnectionId { get; }
    /// <summary>The listener the request arrived on (Metadata and FindCoordinator answer with that listener's endpoints).</summary>
    public string ListenerName { get; init; } = Config.ListenerConfig.Plaintext;

    /// <summary>The request read into its generated class.</summary>
    public IApiRequest TypedBody { get; }

    /// <summary>Set by a handler when Kafka sends no response at all (Produce with acks=0).</summary>
    public bool NoResponse { get; set; }

    /// <summary>Set by a handler to close the connection after its response (or instead of it, with <see cref="NoResponse"/>).</summary>
    public bool CloseConnection { get; set; }

    /// <summary>
    /// Hands a buffer rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/> (e.g. records a fetch read from a
    /// log, referenced by the response) to the connection, which returns it once the response has been encoded.
    /// </summary>
    public void ReturnAfterResponse(byte[] pooled) => (_pooled ??= []).Add(pooled);

    /// <summary>
    /// Hands something the response refers to (a fetch's hold on segment file regions, read while the response is
    /// written) to the connection, which disposes it once the response has been written or dropped.
    /// </summary>
    public void DisposeAfterResponse(IDisposable held) => (_held ??= []).Add(held);

    internal void ReleasePooled()
    {
        if (_held is not null)
        {
            foreach (var held in _held) held.Dispose();
            _held = null;
        }
        if (_pooled is null) return;
        foreach (var buffer in _pooled) System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        _pooled = null;
    }
}
