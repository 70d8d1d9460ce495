namespace Quill.Streams.Connectors.Kafka;

/// <summary>A record read from Kafka: its place, its timestamp (ms since the epoch) and its deserialized key and value.</summary>
public sealed record KafkaRecord<TKey, TValue>(string Topic, int Partition, long Offset, long Timestamp, TKey Key, TValue Value);
