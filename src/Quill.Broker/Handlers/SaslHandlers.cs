using Microsoft.Extensions.Logging;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Handlers;

/// <summary>
/// SaslHandshake on the broker's only listener, which is PLAINTEXT. Kafka answers it there, rather than closing the
/// connection, with ILLEGAL_SASL_STATE and no mechanisms: a client configured for SASL against a plaintext listener
/// then reports a failed handshake (an authentication error) instead of retrying a connection that keeps dropping.
/// </summary>
public sealed class SaslHandshakeHandler(ILogger logger) : ApiHandler<SaslHandshakeRequestData, SaslHandshakeResponseData>
{
    public override ApiKey ApiKey => ApiKey.SaslHandshake;

    public override ValueTask<SaslHandshakeResponseData> HandleAsync(SaslHandshakeRequestData request, RequestContext context, CancellationToken cancellationToken)
    {
        // Worth a line: it is a client's misconfiguration that only the operator can see from here.
        logger.LogWarning("Client {ClientId} at {Client} asked for SASL mechanism {Mechanism}, but this listener has no SASL (PLAINTEXT)",
            LogSafe.Text(context.ClientId), context.ClientAddress, LogSafe.Text(request.Mechanism));
        return ValueTask.FromResult(new SaslHandshakeResponseData { ErrorCode = (short)KafkaError.IllegalSaslState });
    }
}

/// <summary>SaslAuthenticate on the PLAINTEXT listener: ILLEGAL_SASL_STATE with Kafka's message, as Kafka answers it there.</summary>
public sealed class SaslAuthenticateHandler : ApiHandler<SaslAuthenticateRequestData, SaslAuthenticateResponseData>
{
    public override ApiKey ApiKey => ApiKey.SaslAuthenticate;

    public override ValueTask<SaslAuthenticateResponseData> HandleAsync(SaslAuthenticateRequestData request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new SaslAuthenticateResponseData
        {
            ErrorCode = (short)KafkaError.IllegalSaslState,
            ErrorMessage = "SaslAuthenticate request received after successful authentication",
        });
}
