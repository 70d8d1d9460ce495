using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

/// <summary>
/// A log operation refused with one of Kafka's error codes (CorruptMessage, MessageTooLarge, InvalidRecord,
/// OffsetOutOfRange, OutOfOrderSequenceNumber, InvalidProducerEpoch, ...). The handler puts <see cref="Error"/>
/// in the response; nothing was changed in the log when this is thrown.
/// </summary>
public sealed class LogException(KafkaError error, string message) : Exception(message)
{
    public KafkaError Error { get; } = error;
}
