namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>The SASL APIs (see <see cref="SpecDigests"/> for the form), answered on a listener without SASL.</summary>
internal static partial class SpecDigests
{
    private static readonly Dictionary<string, string> Sasl = new()
    {
        // apache/kafka@2ec1ebc6 (0-1).
        ["SaslHandshakeRequest"] = """
            SaslHandshakeRequest v0-1 flexible vnone
            Mechanism: string v0+
            """,
        // apache/kafka@1af943b7 (0-1).
        ["SaslHandshakeResponse"] = """
            SaslHandshakeResponse v0-1 flexible vnone
            ErrorCode: int16 v0+
            Mechanisms: []string v0+
            """,
        // apache/kafka@0effb0fe (0-2).
        ["SaslAuthenticateRequest"] = """
            SaslAuthenticateRequest v0-2 flexible v2+
            AuthBytes: bytes v0+
            """,
        // apache/kafka@0effb0fe (0-2).
        ["SaslAuthenticateResponse"] = """
            SaslAuthenticateResponse v0-2 flexible v2+
            ErrorCode: int16 v0+
            ErrorMessage: string v0+ nullable v0+
            AuthBytes: bytes v0+
            SessionLifetimeMs: int64 v1+
            """,
    };
}
