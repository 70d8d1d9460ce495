using Quill.Kafka.Protocol.Schema;
using static Quill.Kafka.Protocol.Schema.F;

namespace Quill.Kafka.Protocol.Messages;

/// <summary>
/// SaslHandshake (17): v0 (raw SASL tokens follow), v1 (tokens follow in SaslAuthenticate). Never flexible: the
/// response version cannot be bumped without breaking clients up to 2.4 (KAFKA-9577).
/// </summary>
public static class SaslHandshakeApi
{
    public static readonly MessageSchema Request = new("SaslHandshakeRequest", "0-1", "none",
        String("Mechanism", "0+"));

    public static readonly MessageSchema Response = new("SaslHandshakeResponse", "0-1", "none",
        Int16("ErrorCode", "0+"),
        StringArray("Mechanisms", "0+"));
}

/// <summary>SaslAuthenticate (36): v1 adds the session lifetime, v2 is flexible.</summary>
public static class SaslAuthenticateApi
{
    public static readonly MessageSchema Request = new("SaslAuthenticateRequest", "0-2", "2+",
        Bytes("AuthBytes", "0+"));

    public static readonly MessageSchema Response = new("SaslAuthenticateResponse", "0-2", "2+",
        Int16("ErrorCode", "0+"),
        String("ErrorMessage", "0+").Nullable("0+"),
        Bytes("AuthBytes", "0+"),
        Int64("SessionLifetimeMs", "1+"));
}
