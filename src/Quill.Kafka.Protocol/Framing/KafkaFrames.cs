using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Protocol.Framing;

/// <summary>A decoded request: its header, the API it is for, and its body.</summary>
public sealed record KafkaRequest(RequestHeader Header, Api Api, StructValue Body)
{
    public short Version => Header.ApiVersion;
}

/// <summary>
/// Whole frames: a 4-byte big-endian size, the header, the body. Decoding takes the bytes after the size
/// (the network layer has already split frames); encoding writes the size too.
/// </summary>
public static class KafkaFrames
{
    /// <summary>
    /// Decodes a request frame (without its size prefix). Throws <see cref="KafkaProtocolException"/> for
    /// unknown APIs, unsupported versions and malformed bytes; use <see cref="RequestHeader.TryPeek"/> first
    /// to answer such requests with an error. Byte fields in the body are slices of <paramref name="frame"/>.
    /// </summary>
    public static KafkaRequest DecodeRequest(ReadOnlyMemory<byte> frame)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        if (!KafkaApis.TryGet(header.ApiKey, out var api))
            throw new KafkaProtocolException($"unknown api key {header.ApiKey}");
        if (!api.Supports(header.ApiVersion))
            throw new KafkaProtocolException($"{api.Key} v{header.ApiVersion} is not supported (v{api.MinVersion}-{api.MaxVersion})");
        var body = MessageCodec.Decode(api.Request, header.ApiVersion, ref reader);
        return new KafkaRequest(header, api, body);
    }

    public static void WriteRequest(KafkaWriter writer, RequestHeader header, StructValue body)
    {
        var api = KafkaApis.Get((ApiKey)header.ApiKey);
        int sizeAt = writer.Reserve(4);
        header.Write(writer);
        MessageCodec.Encode(api.Request, header.ApiVersion, body, writer);
        writer.PatchInt32(sizeAt, writer.Length - sizeAt - 4);
    }

    /// <summary>Writes a response frame: size, header (v0 or v1 as the API and version require), body.</summary>
    public static void WriteResponse(KafkaWriter writer, Api api, short version, int correlationId, StructValue body)
    {
        int sizeAt = writer.Reserve(4);
        ResponseHeader.Write(writer, correlationId, api.ResponseHeaderVersion(version));
        MessageCodec.Encode(api.Response, version, body, writer);
        writer.PatchInt32(sizeAt, writer.Length - sizeAt - 4);
    }

    /// <summary>Decodes a response frame (without its size prefix), as a client would.</summary>
    public static (int CorrelationId, StructValue Body) DecodeResponse(ReadOnlyMemory<byte> frame, Api api, short version)
    {
        var reader = new KafkaReader(frame);
        int correlationId;
        try
        {
            correlationId = ResponseHeader.Read(ref reader, api.ResponseHeaderVersion(version));
        }
        catch (KafkaProtocolException e)
        {
            throw e.InMessage("response header");
        }
        return (correlationId, MessageCodec.Decode(api.Response, version, ref reader));
    }
}
