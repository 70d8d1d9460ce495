using Quill.Broker.Handlers;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// Calls a handler with a request frame as the network layer would (read into the generated class, answer written by
/// it) and reads its answer back with the interpreting codec, so a test written against the interpreted form also
/// checks that both encodings agree.
/// </summary>
public static class HandlerCall
{
    public static async Task<StructValue> InvokeAsync(IRequestHandler handler, ReadOnlyMemory<byte> frame)
    {
        using var responseWriter = new KafkaWriter();
        var request = MessageFrames.ReadRequest(frame);
        var header = request.Header;
        var response = await handler.HandleAsync(new RequestContext(request.Header, request.Body, "127.0.0.1:50000", 1), CancellationToken.None);
        MessageFrames.WriteResponse(responseWriter, header.ApiVersion, header.CorrelationId, response);
        var api = KafkaApis.Get(handler.ApiKey);
        var (correlationId, decoded) = KafkaFrames.DecodeResponse(responseWriter.ToArray().AsMemory(4), api, header.ApiVersion);
        Assert.Equal(header.CorrelationId, correlationId);
        return decoded;
    }
}
