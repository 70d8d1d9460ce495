using Quill.Kafka.Protocol;

namespace Quill.Broker.Log;

/// <summary>
/// A log operation refused with one of Kafka's error codes (CorruptMessage, MessageTooLarge, InvalidRecord,
/// OffsetOutOfRange, OutOfOrderSequenceNumber, InvalidProducerEpoch, ...). The handler puts <see cref="Error"/>
/// in the response; nothing was changed in the log when this is thrown.
/// </summary>
public sealed class LogException(KafkaError error, string message, IReadOnlyList<RecordError>? recordErrors = null) : Exception(message)
{
    public KafkaError Error { get; } = error;

    /// <summary>The records that caused the refusal, by index within their batch (Produce v8+'s RecordErrors).</summary>
    public IReadOnlyList<RecordError> RecordErrors { get; } = recordErrors ?? [];
}

/// <summary>One refused record: its index within its batch and why.</summary>
public readonly record struct RecordError(int BatchIndex, string Message);
