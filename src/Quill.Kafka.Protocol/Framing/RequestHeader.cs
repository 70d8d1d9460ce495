using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Framing;

/// <summary>
/// The request header. v0: api key, api version, correlation id. v1 adds the client id, a classic nullable
/// string (int16 length) — it stays non-compact in v2. v2 adds a tagged-field section, which is read and
/// dropped (no header tags are defined for requests a broker answers).
/// </summary>
public readonly record struct RequestHeader(short ApiKey, short ApiVersion, int CorrelationId, string? ClientId)
{
    /// <summary>
    /// The header version a request uses: 2 if the API's version is flexible, else 1. Flexibility is
    /// open-ended, so a version newer than described is read with the newest header (as Kafka does, which lets
    /// a broker answer an ApiVersions request it does not support). Unknown APIs are read as v1.
    /// </summary>
    public static short HeaderVersionFor(short apiKey, short apiVersion) =>
        KafkaApis.TryGet(apiKey, out var api) ? api.RequestHeaderVersion(apiVersion) : (short)1;

    public static RequestHeader Read(ref KafkaReader reader)
    {
        short apiKey = reader.ReadInt16();
        short apiVersion = reader.ReadInt16();
        int correlationId = reader.ReadInt32();
        short headerVersion = HeaderVersionFor(apiKey, apiVersion);
        string? clientId = null;
        try
        {
            clientId = reader.ReadString(compact: false, nullable: true);
            if (headerVersion >= 2) SkipTaggedFields(ref reader);
        }
        catch (KafkaProtocolException e)
        {
            throw e.InMessage($"request header v{headerVersion} (api {apiKey} v{apiVersion}, correlation id {correlationId})");
        }
        return new RequestHeader(apiKey, apiVersion, correlationId, clientId);
    }

    /// <summary>Reads only the first eight bytes: enough to answer a request whose body cannot be read.</summary>
    public static bool TryPeek(ReadOnlySpan<byte> frame, out short apiKey, out short apiVersion, out int correlationId)
    {
        apiKey = apiVersion = 0;
        correlationId = 0;
        if (frame.Length < 8) return false;
        apiKey = System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(frame);
        apiVersion = System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(frame[2..]);
        correlationId = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame[4..]);
        return true;
    }

    internal static void SkipTaggedFields(ref KafkaReader reader)
    {
        uint count = reader.ReadUnsignedVarint();
        for (uint i = 0; i < count; i++)
        {
            reader.ReadUnsignedVarint();
            uint size = reader.ReadUnsignedVarint();
            reader.Skip(size > int.MaxValue ? -1 : (int)size);
        }
    }

    public void Write(KafkaWriter writer)
    {
        short headerVersion = HeaderVersionFor(ApiKey, ApiVersion);
        writer.WriteInt16(ApiKey);
        writer.WriteInt16(ApiVersion);
        writer.WriteInt32(CorrelationId);
        writer.WriteString(ClientId, compact: false);
        if (headerVersion >= 2) writer.WriteUnsignedVarint(0);
    }
}
