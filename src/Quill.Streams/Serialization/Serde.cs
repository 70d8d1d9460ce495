namespace Quill.Streams.Serialization;

/// <summary>
/// How values of <typeparamref name="T"/> become bytes and back: the Kafka source reads keys and values with one, the
/// Kafka sink writes them with one. A null byte array is Kafka's null key or value (a tombstone).
/// </summary>
public abstract class Serde<T>
{
    public abstract byte[]? Serialize(T value);

    public abstract T Deserialize(byte[]? data);
}
