using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Quill.Kafka.Protocol.Primitives;

/// <summary>
/// A growable, pooled buffer that writes Kafka's primitive encodings. Reuse one per connection with
/// <see cref="Reset"/>; dispose it to return the buffer to the pool.
/// </summary>
public sealed class KafkaWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;
    private List<Splice>? _splices;

    /// <summary>
    /// <paramref name="Length"/> bytes of <paramref name="Bytes"/> from <paramref name="Start"/>, left out of the buffer
    /// at <paramref name="Position"/> for the sink to take from their source.
    /// </summary>
    public readonly record struct Splice(int Position, ExternalBytes Bytes, int Start, int Length);

    public KafkaWriter(int initialCapacity = 256) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(16, initialCapacity));

    public int Length => _length;
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Reset()
    {
        _length = 0;
        _splices?.Clear();
        SplicedLength = 0;
    }

    /// <summary>
    /// When set, records backed by <see cref="ExternalBytes"/> (a segment file region) are not copied into the buffer:
    /// <see cref="Splices"/> says where they go, and the sink reads them from their source straight into its own
    /// memory while it sends (Kafka's zero-copy records in a send). Off by default: then they are read into the buffer.
    /// </summary>
    public bool SpliceExternalBytes { get; set; }

    /// <summary>The bytes left out so far, in buffer order; the whole output is the buffer with each one inserted.</summary>
    public IReadOnlyList<Splice> Splices => (IReadOnlyList<Splice>?)_splices ?? [];

    /// <summary>How many bytes <see cref="Splices"/> leave out (<see cref="Length"/> counts only the buffer).</summary>
    public long SplicedLength { get; private set; }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsSpan(_length);
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(sizeHint, 1));
        return _buffer.AsMemory(_length);
    }

    public void Advance(int count) => _length += count;

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length) return;
        int size = Math.Max(_buffer.Length * 2, _length + extra);
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    private Span<byte> Append(int count)
    {
        Ensure(count);
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    /// <summary>Reserves <paramref name="count"/> bytes to be patched later; returns their position.</summary>
    public int Reserve(int count)
    {
        int position = _length;
        Append(count);
        return position;
    }

    public void PatchInt32(int position, int value) => BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(position, 4), value);

    /// <summary>Moves the bytes from <paramref name="from"/> to the end by <paramref name="by"/> to open a gap.</summary>
    internal void OpenGap(int from, int by)
    {
        Ensure(by);
        _buffer.AsSpan(from, _length - from).CopyTo(_buffer.AsSpan(from + by));
        _length += by;
        if (_splices is null) return;
        for (int i = 0; i < _splices.Count; i++)
            if (_splices[i].Position >= from) _splices[i] = _splices[i] with { Position = _splices[i].Position + by };
    }

    internal Span<byte> Slice(int position, int count) => _buffer.AsSpan(position, count);

    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Append(bytes.Length));
    public void WriteBool(bool value) => Append(1)[0] = value ? (byte)1 : (byte)0;
    public void WriteInt8(sbyte value) => Append(1)[0] = (byte)value;
    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16BigEndian(Append(2), value);
    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Append(2), value);
    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Append(4), value);
    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Append(4), value);
    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Append(8), value);
    public void WriteFloat64(double value) => BinaryPrimitives.WriteDoubleBigEndian(Append(8), value);

    public void WriteUuid(Guid value)
    {
        if (!value.TryWriteBytes(Append(16), bigEndian: true, out _)) throw new InvalidOperationException("uuid write failed");
    }

    public void WriteUnsignedVarint(uint value)
    {
        Span<byte> span = GetSpan(5);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        _length += i;
    }

    public void WriteUnsignedVarlong(ulong value)
    {
        Span<byte> span = GetSpan(10);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        _length += i;
    }

    public void WriteVarint(int value) => WriteUnsignedVarint((uint)((value << 1) ^ (value >> 31)));
    public void WriteVarlong(long value) => WriteUnsignedVarlong((ulong)((value << 1) ^ (value >> 63)));

    public static int SizeOfUnsignedVarint(uint value)
    {
        int size = 1;
        while (value >= 0x80) { value >>= 7; size++; }
        return size;
    }

    public static int SizeOfUnsignedVarlong(ulong value)
    {
        int size = 1;
        while (value >= 0x80) { value >>= 7; size++; }
        return size;
    }

    public static int SizeOfVarint(int value) => SizeOfUnsignedVarint((uint)((value << 1) ^ (value >> 31)));
    public static int SizeOfVarlong(long value) => SizeOfUnsignedVarlong((ulong)((value << 1) ^ (value >> 63)));

    public void WriteString(string? value, bool compact)
    {
        if (value is null)
        {
            if (compact) WriteUnsignedVarint(0); else WriteInt16(-1);
            return;
        }
        int length = Encoding.UTF8.GetByteCount(value);
        if (compact) WriteUnsignedVarint((uint)length + 1);
        else
        {
            if (length > short.MaxValue) throw new ArgumentException($"string of {length} bytes is too long for an int16 length");
            WriteInt16((short)length);
        }
        Encoding.UTF8.GetBytes(value, Append(length));
    }

    public void WriteBytes(ReadOnlySpan<byte> value, bool compact)
    {
        if (compact) WriteUnsignedVarint((uint)value.Length + 1); else WriteInt32(value.Length);
        WriteRaw(value);
    }

    /// <summary>
    /// A records field: like <see cref="WriteBytes"/>, except that bytes from a file region are read into the buffer
    /// directly, or left out as a <see cref="Splice"/> when <see cref="SpliceExternalBytes"/> is set.
    /// </summary>
    public void WriteRecords(ReadOnlyMemory<byte> value, bool compact)
    {
        if (!MemoryMarshal.TryGetMemoryManager(value, out ExternalBytes? external, out int start, out int length))
        {
            WriteBytes(value.Span, compact);
            return;
        }
        if (compact) WriteUnsignedVarint((uint)length + 1); else WriteInt32(length);
        if (length == 0) return;
        if (!SpliceExternalBytes)
        {
            external.ReadAt(start, Append(length));
            return;
        }
        (_splices ??= []).Add(new Splice(_length, external, start, length));
        SplicedLength += length;
    }

    public void WriteNullBytes(bool compact)
    {
        if (compact) WriteUnsignedVarint(0); else WriteInt32(-1);
    }

    /// <summary>An array count; -1 writes null.</summary>
    public void WriteArrayLength(int count, bool compact)
    {
        if (compact) WriteUnsignedVarint((uint)(count + 1)); else WriteInt32(count);
    }
}
