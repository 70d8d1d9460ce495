using System.Buffers.Binary;
using System.Text;

namespace Quill.Keeper.Protocol;

/// <summary>Thrown when bytes do not decode as the jute record the caller expected.</summary>
public sealed class JuteException(string message) : Exception(message);

/// <summary>
/// Reads jute's encoding (big-endian ints and longs, length-prefixed buffers and strings, -1 meaning null)
/// straight from a span: decoding a request allocates only the strings and arrays it returns.
/// </summary>
public ref struct JuteReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    public readonly int Position => _position;
    public readonly int Remaining => _buffer.Length - _position;
    public readonly bool AtEnd => _position >= _buffer.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw new JuteException($"record truncated: needed {count} bytes at offset {_position}, {Remaining} left");
        var slice = _buffer.Slice(_position, count);
        _position += count;
        return slice;
    }

    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public bool ReadBool() => Take(1)[0] != 0;

    public byte[]? ReadBuffer()
    {
        int length = ReadInt();
        if (length < -1) throw new JuteException($"negative buffer length {length}");
        if (length == -1) return null;
        return Take(length).ToArray();
    }

    public string? ReadString()
    {
        int length = ReadInt();
        if (length < -1) throw new JuteException($"negative string length {length}");
        if (length == -1) return null;
        return Encoding.UTF8.GetString(Take(length));
    }

    /// <summary>Reads a vector; a negative count (jute's null vector) reads as empty.</summary>
    public List<T> ReadVector<T>(ReadElement<T> read)
    {
        int count = ReadInt();
        if (count < -1) throw new JuteException($"negative vector length {count}");
        if (count > Remaining) throw new JuteException($"vector of {count} elements cannot fit in {Remaining} bytes");
        var list = new List<T>(Math.Max(count, 0));
        for (int i = 0; i < count; i++) list.Add(read(ref this));
        return list;
    }

    public List<string> ReadStringVector() => ReadVector(static (ref JuteReader r) => r.ReadString() ?? "");
}

public delegate T ReadElement<T>(ref JuteReader reader);
