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

public interface IApiRequest : IApiMessage;

public interface IApiResponse : IApiMessage;
