using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Messages;

/// <summary>
/// The parts of the encoding the generated classes share: tagged-field sections and the errors for values a version
/// cannot carry. Errors and their texts are the interpreting codec's, so both fail alike on the same bytes.
/// </summary>
internal static class MessageWire
{
    /// <summary>
    /// Patches the one-byte size reserved at <paramref name="sizeAt"/> with the size of what followed it, widening
    /// the varint when the value took 128 bytes or more (rare: tagged fields are small).
    /// </summary>
    public static void PatchSize(KafkaWriter writer, int sizeAt)
    {
        uint size = (uint)(writer.Length - sizeAt - 1);
        int sizeBytes = KafkaWriter.SizeOfUnsignedVarint(size);
        if (sizeBytes > 1) writer.OpenGap(sizeAt + 1, sizeBytes - 1);
        var span = writer.Slice(sizeAt, sizeBytes);
        int i = 0;
        while (size >= 0x80) { span[i++] = (byte)(size | 0x80); size >>= 7; }
        span[i] = (byte)size;
    }

    /// <summary>A tagged-field section of a struct that knows no tags.</summary>
    public static void WriteUnknownTaggedFields(KafkaWriter writer, List<RawTaggedField>? unknown)
    {
        if (unknown is null || unknown.Count == 0)
        {
            writer.WriteUnsignedVarint(0);
            return;
        }
        writer.WriteUnsignedVarint((uint)unknown.Count);
        foreach (var field in unknown) WriteRaw(writer, field);
    }

    /// <summary>
    /// Writes the unknown fields from <paramref name="next"/> on whose tags are below <paramref name="tag"/>, skips any
    /// with that very tag (the known field owns it), and returns where the next call goes on.
    /// </summary>
    public static int WriteUnknownBefore(KafkaWriter writer, List<RawTaggedField>? unknown, int next, int tag)
    {
        if (unknown is null) return next;
        while (next < unknown.Count && unknown[next].Tag < tag) WriteRaw(writer, unknown[next++]);
        while (next < unknown.Count && unknown[next].Tag == tag) next++;
        return next;
    }

    private static void WriteRaw(KafkaWriter writer, RawTaggedField field)
    {
        writer.WriteUnsignedVarint((uint)field.Tag);
        writer.WriteUnsignedVarint((uint)field.Data.Length);
        writer.WriteRaw(field.Data.Span);
    }

    /// <summary>The field count of a tagged-field section, refused if the bytes left cannot hold that many.</summary>
    public static int ReadTaggedFieldCount(ref KafkaReader reader)
    {
        int start = reader.Position;
        uint count = reader.ReadUnsignedVarint();
        if (count > reader.Remaining / 2 + 1) throw KafkaProtocolException.At(start, $"{count} tagged fields cannot fit in {reader.Remaining} bytes");
        return (int)count;
    }

    /// <summary>One tagged field: its tag and its bytes (a slice of the input); tags must ascend.</summary>
    public static ReadOnlyMemory<byte> ReadTaggedField(ref KafkaReader reader, ref int lastTag, out uint tag)
    {
        int tagAt = reader.Position;
        tag = reader.ReadUnsignedVarint();
        uint size = reader.ReadUnsignedVarint();
        if ((int)tag <= lastTag) throw KafkaProtocolException.At(tagAt, $"tagged field {tag} out of order after {lastTag}");
        lastTag = (int)tag;
        return reader.TakeMemory(size > int.MaxValue ? -1 : (int)size);
    }

    /// <summary>A tagged-field section of a struct that knows no tags: every field is kept as it came.</summary>
    public static List<RawTaggedField>? ReadUnknownTaggedFields(ref KafkaReader reader)
    {
        int count = ReadTaggedFieldCount(ref reader);
        List<RawTaggedField>? unknown = null;
        int lastTag = -1;
        for (int i = 0; i < count; i++)
        {
            var data = ReadTaggedField(ref reader, ref lastTag, out uint tag);
            (unknown ??= []).Add(new RawTaggedField((int)tag, data));
        }
        return unknown;
    }

    /// <summary>Kafka's generated code refuses to write null where a version has no null; so do these classes.</summary>
    public static InvalidOperationException NotNullable(string field, short version) =>
        new($"{field} is null, which v{version} cannot carry (the field is not nullable in that version)");

    public static InvalidOperationException NullElement(string field) => new($"{field} holds a null element");
}
