using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Messages;

/// <summary>A request read into its generated class.</summary>
public sealed record TypedRequest(RequestHeader Header, IApiRequest Body)
{
    public short Version => Header.ApiVersion;
}

/// <summary>
/// Whole frames (size, header, body) with the generated classes: what <see cref="KafkaFrames"/> does with the
/// interpreting codec, and the same header rules (request header v2 and response header v1 for flexible versions,
/// ApiVersions responses always v0).
/// </summary>
public static class MessageFrames
{
    /// <summary>
    /// Reads a request frame (without its size prefix); throws <see cref="KafkaProtocolException"/> for unknown APIs,
    /// versions not described and bad bytes. Bytes and records in the body are slices of <paramref name="frame"/>.
    /// </summary>
    public static TypedRequest ReadRequest(ReadOnlyMemory<byte> frame)
    {
        var reader = new KafkaReader(frame);
        var header = RequestHeader.Read(ref reader);
        if (!KafkaApis.TryGet(header.ApiKey, out var api))
            throw new KafkaProtocolException($"unknown api key {header.ApiKey}");
        if (!api.Supports(header.ApiVersion))
            throw new KafkaProtocolException($"{api.Key} v{header.ApiVersion} is not supported (v{api.MinVersion}-{api.MaxVersion})");
        return new TypedRequest(header, KafkaMessages.ReadRequest(api.Key, ref reader, header.ApiVersion));
    }

    public static void WriteRequest(KafkaWriter writer, RequestHeader header, IApiRequest body)
    {
        if ((short)body.ApiKey != header.ApiKey) throw new ArgumentException($"a {body.ApiKey} body under a header for api key {header.ApiKey}", nameof(body));
        int sizeAt = writer.Reserve(4);
        header.Write(writer);
        body.Write(writer, header.ApiVersion);
        writer.PatchInt32(sizeAt, writer.Length - sizeAt - 4);
    }

    /// <summary>Writes a response frame: size, header (v0 or v1 as the API and version require), body.</summary>
    public static void WriteResponse(KafkaWriter writer, short version, int correlationId, IApiResponse body)
    {
        var api = KafkaApis.Get(body.ApiKey);
        int sizeAt = writer.Reserve(4);
        long splicedBefore = writer.SplicedLength;
        ResponseHeader.Write(writer, correlationId, api.ResponseHeaderVersion(version));
        body.Write(writer, version);
        // Records spliced out of the buffer (file regions a fetch returns) are part of the frame all the same.
        writer.PatchInt32(sizeAt, checked((int)(writer.Length - sizeAt - 4 + writer.SplicedLength - splicedBefore)));
    }

    /// <summary>Reads a response frame (without its size prefix), as a client would.</summary>
    public static (int CorrelationId, T Body) ReadResponse<T>(ReadOnlyMemory<byte> frame, ApiKey apiKey, short version)
        where T : class, IApiResponse, IKafkaMessage<T>
    {
        var reader = new KafkaReader(frame);
        int correlationId = ResponseHeader.Read(ref reader, KafkaApis.Get(apiKey).ResponseHeaderVersion(version));
        return (correlationId, T.Read(ref reader, version));
    }
}
