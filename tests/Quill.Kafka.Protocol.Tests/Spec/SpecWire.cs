using System.Text;

namespace Quill.Kafka.Protocol.Tests.Spec;

/// <summary>
/// Builds expected message bytes by hand, primitive by primitive as Kafka's protocol guide defines them, without
/// the library's writer: big-endian integers, unsigned varints, compact (length + 1) strings, bytes and arrays
/// with 0 for null, and tagged-field sections (count, then tag, size and data for each).
/// </summary>
internal sealed class SpecWire
{
    private readonly List<byte> _bytes = [];

    public SpecWire Int8(int value) { _bytes.Add((byte)value); return this; }
    public SpecWire Bool(bool value) => Int8(value ? 1 : 0);
    public SpecWire Int16(int value) => BigEndian((ushort)value, 2);
    public SpecWire Int32(int value) => BigEndian((uint)value, 4);
    public SpecWire Int64(long value) => BigEndian((ulong)value, 8);

    private SpecWire BigEndian(ulong value, int width)
    {
        for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) _bytes.Add((byte)(value >> shift));
        return this;
    }

    /// <summary>A UUID as its 16 bytes in the order they are written in the usual text form.</summary>
    public SpecWire Uuid(string text)
    {
        _bytes.AddRange(Convert.FromHexString(text.Replace("-", "")));
        return this;
    }

    public SpecWire UVarint(uint value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.Add((byte)value);
        return this;
    }

    public SpecWire CompactString(string? value)
    {
        if (value is null) return UVarint(0);
        var utf8 = Encoding.UTF8.GetBytes(value);
        UVarint((uint)utf8.Length + 1);
        _bytes.AddRange(utf8);
        return this;
    }

    public SpecWire CompactBytes(byte[]? value)
    {
        if (value is null) return UVarint(0);
        UVarint((uint)value.Length + 1);
        _bytes.AddRange(value);
        return this;
    }

    /// <summary>A compact array's length prefix; the elements follow. -1 is null.</summary>
    public SpecWire CompactArray(int count) => UVarint((uint)(count + 1));

    public SpecWire NoTaggedFields() => UVarint(0);

    /// <summary>A tagged-field section: the fields must be given in ascending tag order.</summary>
    public SpecWire TaggedFields(params (int Tag, SpecWire Data)[] fields)
    {
        UVarint((uint)fields.Length);
        foreach (var (tag, data) in fields)
        {
            UVarint((uint)tag);
            UVarint((uint)data._bytes.Count);
            _bytes.AddRange(data._bytes);
        }
        return this;
    }

    /// <summary>Adds the bytes of <paramref name="part"/> when <paramref name="condition"/> holds (a versioned field).</summary>
    public SpecWire If(bool condition, Func<SpecWire, SpecWire> part) => condition ? part(this) : this;

    public byte[] ToArray() => [.. _bytes];
}
