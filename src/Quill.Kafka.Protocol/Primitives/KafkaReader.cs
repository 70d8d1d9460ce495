using System.Buffers.Binary;
using System.Text;

namespace Quill.Kafka.Protocol.Primitives;

/// <summary>
/// Reads Kafka's primitive encodings from memory. Byte fields come back as slices of the input (no copy),
/// so the caller keeps the input alive as long as it uses them. Every length is checked against the bytes
/// left before anything is allocated.
/// </summary>
public ref struct KafkaReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly ReadOnlySpan<byte> _span;
    private int _position;

    public KafkaReader(ReadOnlyMemory<byte> memory)
    {
        _memory = memory;
        _span = memory.Span;
        _position = 0;
    }

    public readonly int Position => _position;
    public readonly int Remaining => _span.Length - _position;
    public readonly bool AtEnd => _position >= _span.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)Remaining)
            throw KafkaProtocolException.At(_position, $"needed {count} bytes, {Remaining} left");
        var slice = _span.Slice(_position, count);
        _position += count;
        return slice;
    }

    public ReadOnlyMemory<byte> TakeMemory(int count)
    {
        if ((uint)count > (uint)Remaining)
            throw KafkaProtocolException.At(_position, $"needed {count} bytes, {Remaining} left");
        var slice = _memory.Slice(_position, count);
        _position += count;
        return slice;
    }

    public void Skip(int count) => Take(count);

    public bool ReadBool() => Take(1)[0] != 0;
    public sbyte ReadInt8() => (sbyte)Take(1)[0];
    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));
    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    public uint ReadUnsignedVarint()
    {
        int start = _position;
        uint result = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if (_position >= _span.Length) throw KafkaProtocolException.At(start, "varint runs past the end");
            byte b = _span[_position++];
            if (shift == 28 && (b & 0xF0) != 0) throw KafkaProtocolException.At(start, "varint does not fit 32 bits");
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw KafkaProtocolException.At(start, "varint longer than 5 bytes");
    }

    public ulong ReadUnsignedVarlong()
    {
        int start = _position;
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _span.Length) throw KafkaProtocolException.At(start, "varlong runs past the end");
            byte b = _span[_position++];
            if (shift == 63 && (b & 0xFE) != 0) throw KafkaProtocolException.At(start, "varlong does not fit 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw KafkaProtocolException.At(start, "varlong longer than 10 bytes");
    }

    /// <summary>Zigzag-encoded signed 32-bit varint (record fields).</summary>
    public int ReadVarint()
    {
        uint raw = ReadUnsignedVarint();
        return (int)(raw >> 1) ^ -(int)(raw & 1);
    }

    /// <summary>Zigzag-encoded signed 64-bit varint (record fields).</summary>
    public long ReadVarlong()
    {
        ulong raw = ReadUnsignedVarlong();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>A length prefix: int16/int32 classic or unsigned varint (length+1) compact; -1 means null.</summary>
    private int ReadLength(bool compact, bool wide, bool nullable, string what)
    {
        int start = _position;
        long length = compact ? (long)ReadUnsignedVarint() - 1 : wide ? ReadInt32() : ReadInt16();
        if (length == -1)
        {
            if (!nullable) throw KafkaProtocolException.At(start, $"null {what} where it is not nullable");
            return -1;
        }
        if (length < 0) throw KafkaProtocolException.At(start, $"negative {what} length {length}");
        if (length > Remaining) throw KafkaProtocolException.At(start, $"{what} length {length} exceeds the {Remaining} bytes left");
        return (int)length;
    }

    public string? ReadString(bool compact, bool nullable)
    {
        int length = ReadLength(compact, wide: false, nullable, "string");
        if (length < 0) return null;
        if (length == 0) return "";
        return Encoding.UTF8.GetString(Take(length));
    }

    public ReadOnlyMemory<byte>? ReadBytes(bool compact, bool nullable)
    {
        int length = ReadLength(compact, wide: true, nullable, "bytes");
        if (length < 0) return null;
        return TakeMemory(length);
    }

    /// <summary>
    /// An array count (-1 for null). A count larger than the bytes left could ever hold (each element takes at
    /// least <paramref name="minElementSize"/> bytes) is rejected here, before anything is allocated for it.
    /// </summary>
    public int ReadArrayLength(bool compact, bool nullable, int minElementSize)
    {
        int start = _position;
        long count = compact ? (long)ReadUnsignedVarint() - 1 : ReadInt32();
        if (count == -1)
        {
            if (!nullable) throw KafkaProtocolException.At(start, "null array where it is not nullable");
            return -1;
        }
        if (count < 0) throw KafkaProtocolException.At(start, $"negative array length {count}");
        if (count * Math.Max(1, minElementSize) > Remaining)
            throw KafkaProtocolException.At(start, $"array of {count} elements cannot fit in the {Remaining} bytes left");
        return (int)count;
    }
}
