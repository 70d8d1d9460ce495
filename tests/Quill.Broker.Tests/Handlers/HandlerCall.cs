using Quill.Broker.Handlers;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Tests.Handlers;

/// <summary>
/// Calls a handler of either kind with a request frame and reads its answer back in the interpreted form, as the
/// network layer would: a handler of the generated classes gets the frame read by them, so a test written against the
/// interpreted form also checks that both encodings agree.
/// </summary>
public static class HandlerCall
{
    public static async Task<StructValue> InvokeAsync(IRequestHandler handler, ReadOnlyMemory<byte> frame)
    {
        using var responseWriter = new KafkaWriter();
        RequestHeader header;
        switch (handler)
        {
            case ITypedApiHandler typed:
            {
                var request = MessageFrames.ReadRequest(frame);
                header = request.Header;
                var response = await typed.HandleAsync(new RequestContext(request.Header, request.Body, "127.0.0.1:50000", 1), CancellationToken.None);
                MessageFrames.WriteResponse(responseWriter, header.ApiVersion, header.CorrelationId, response);
                break;
            }
            case IApiHandler interpreted:
            {
                var request = KafkaFrames.DecodeRequest(frame);
                header = request.Header;
                var response = await interpreted.HandleAsync(new RequestContext(request, "127.0.0.1:50000", 1), CancellationToken.None);
                KafkaFrames.WriteResponse(responseWriter, request.Api, header.ApiVersion, header.CorrelationId, response);
                break;
            }
            default:
                throw new ArgumentException($"{handler.GetType().Name} is neither kind of handler", nameof(handler));
        }
        var api = KafkaApis.Get(handler.ApiKey);
        var (correlationId, decoded) = KafkaFrames.DecodeResponse(responseWriter.ToArray().AsMemory(4), api, header.ApiVersion);
        Assert.Equal(header.CorrelationId, correlationId);
        return decoded;
    }
}
