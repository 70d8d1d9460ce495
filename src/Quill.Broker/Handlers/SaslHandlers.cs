using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Handlers;

/// <summary>
/// SaslHandshake on the broker's only listener, which is PLAINTEXT. Kafka answers it there, rather than closing the
/// connection, with ILLEGAL_SASL_STATE and no mechanisms: a client configured for SASL against a plaintext listener
/// then reports a failed handshake (an authentication error) instead of retrying a connection that keeps dropping.
/// </summary>
public sealed class SaslHandshakeHandler(ILogger logger) : IApiHandler
{
    public ApiKey ApiKey => ApiKey.SaslHandshake;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        // Worth a line: it is a client's misconfiguration that only the operator can see from here.
        logger.LogWarning("Client {ClientId} at {Client} asked for SASL mechanism {Mechanism}, but this listener has no SASL (PLAINTEXT)",
            LogSafe.Text(context.ClientId), context.ClientAddress, LogSafe.Text(context.Body.GetString("Mechanism")));
        var response = context.NewResponse();
        response.SetInt("ErrorCode", (short)KafkaError.IllegalSaslState);
        return ValueTask.FromResult(response);
    }
}

/// <summary>SaslAuthenticate on the PLAINTEXT listener: ILLEGAL_SASL_STATE with Kafka's message, as Kafka answers it there.</summary>
public sealed class SaslAuthenticateHandler : IApiHandler
{
    public ApiKey ApiKey => ApiKey.SaslAuthenticate;

    public ValueTask<StructValue> HandleAsync(RequestContext context, CancellationToken cancellationToken)
    {
        var response = context.NewResponse();
        response.SetInt("ErrorCode", (short)KafkaError.IllegalSaslState)
            .SetString("ErrorMessage", "SaslAuthenticate request received after successful authentication");
        return ValueTask.FromResult(response);
    }
}
