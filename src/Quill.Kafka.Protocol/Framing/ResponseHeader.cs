using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Framing;

/// <summary>The response header: v0 is the correlation id; v1 adds an (empty) tagged-field section.</summary>
public static class ResponseHeader
{
    public static void Write(KafkaWriter writer, int correlationId, short headerVersion)
    {
        writer.WriteInt32(correlationId);
        if (headerVersion >= 1) writer.WriteUnsignedVarint(0);
    }

    /// <summary>Reads a response header; v1's tagged fields are skipped.</summary>
    public static int Read(ref KafkaReader reader, short headerVersion)
    {
        int correlationId = reader.ReadInt32();
        if (headerVersion >= 1) RequestHeader.SkipTaggedFields(ref reader);
        return correlationId;
    }
}
