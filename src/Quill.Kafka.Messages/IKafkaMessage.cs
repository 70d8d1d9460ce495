using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Messages;

/// <summary>A generated message class: written in any version it describes.</summary>
public interface IKafkaMessage
{
    /// <summary>Writes the body (no size, no header) in <paramref name="version"/>.</summary>
    void Write(KafkaWriter writer, short version);
}

/// <summary>A generated message class that code can also read generically (<c>T.Read</c>).</summary>
public interface IKafkaMessage<TSelf> : IKafkaMessage where TSelf : class, IKafkaMessage<TSelf>
{
    static abstract TSelf Read(ref KafkaReader reader, short version);
}

/// <summary>The request or response body of an API.</summary>
public interface IApiMessage : IKafkaMessage
{
    ApiKey ApiKey { get; }
}

public interface IApiRequest : IApiMessage
{
    /// <summary>
    /// Kafka's AbstractRequest.getErrorResponse: the answer to this request failing with <paramref name="error"/>, in the
    /// shape its clients read, with the error in every place the response carries one and the request's topics,
    /// partitions, groups or resources mirrored; null when Kafka sends no response at all (Produce with acks=0).
    /// Written by hand per API (<c>ErrorResponses/</c>), as Kafka does: which fields carry the error and what the other
    /// fields say (offset -1, no coordinator, ...) is each API's own rule, not something the descriptions know.
    /// Error messages stay empty: Kafka never sends the text of an unexpected exception to the client.
    /// </summary>
    IApiResponse? ErrorResponse(short version, KafkaError error);
}

public interface IApiResponse : IApiMessage;
