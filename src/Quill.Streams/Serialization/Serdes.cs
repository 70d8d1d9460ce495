using System.Text;
using System.Text.Json;

namespace Quill.Streams.Serialization;

/// <summary>The serdes that come with the library, and <see cref="Create{T}"/> for user-supplied ones.</summary>
public static class Serdes
{
    /// <summary>UTF-8 text; a null record key or value reads as null.</summary>
    public static Serde<string?> String { get; } = new DelegateSerde<string?>(
        s => s is null ? null : Encoding.UTF8.GetBytes(s),
        b => b is null ? null : Encoding.UTF8.GetString(b));

    /// <summary>The bytes as they are.</summary>
    public static Serde<byte[]?> Bytes { get; } = new DelegateSerde<byte[]?>(b => b, b => b);

    /// <summary>JSON through System.Text.Json; a null record reads as default(T).</summary>
    public static Serde<T> Json<T>(JsonSerializerOptions? options = null) => new DelegateSerde<T>(
        v => JsonSerializer.SerializeToUtf8Bytes(v, options),
        b => b is null ? default! : JsonSerializer.Deserialize<T>(b, options)!);

    /// <summary>A serde from two functions.</summary>
    public static Serde<T> Create<T>(Func<T, byte[]?> serialize, Func<byte[]?, T> deserialize) =>
        new DelegateSerde<T>(serialize, deserialize);

    private sealed class DelegateSerde<T>(Func<T, byte[]?> serialize, Func<byte[]?, T> deserialize) : Serde<T>
    {
        public override byte[]? Serialize(T value) => serialize(value);
        public override T Deserialize(byte[]? data) => deserialize(data);
    }
}
