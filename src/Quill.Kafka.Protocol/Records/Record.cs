namespace Quill.Kafka.Protocol.Records;

/// <summary>A record header: a string key and a nullable byte value.</summary>
public readonly record struct RecordHeader(string Key, ReadOnlyMemory<byte>? Value);

/// <summary>One record of a batch with its absolute offset and timestamp (batch base plus deltas).</summary>
public sealed record Record(
    long Offset,
    long Timestamp,
    ReadOnlyMemory<byte>? Key,
    ReadOnlyMemory<byte>? Value,
    IReadOnlyList<RecordHeader> Headers);
