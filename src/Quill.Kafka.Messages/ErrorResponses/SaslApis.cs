using Quill.Kafka.Protocol;

namespace Quill.Kafka.Messages;

// Kafka's SaslHandshakeRequest and SaslAuthenticateRequest getErrorResponse: the error, no mechanisms, no bytes.

public sealed partial class SaslHandshakeRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new SaslHandshakeResponseData { ErrorCode = (short)error };
}

public sealed partial class SaslAuthenticateRequestData
{
    public IApiResponse? ErrorResponse(short version, KafkaError error) => new SaslAuthenticateResponseData { ErrorCode = (short)error };
}
