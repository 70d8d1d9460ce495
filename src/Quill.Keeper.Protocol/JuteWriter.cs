using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Quill.Keeper.Protocol;

/// <summary>
/// Writes jute's encoding into a growable buffer. <see cref="BeginFrame"/> / <see cref="EndFrame"/> reserve and
/// patch the 4-byte length prefix that frames every packet, so a response is built in one pass.
/// </summary>
public sealed class JuteWriter
{
    private byte[] _buffer;
    private int _length;
    private int _frameStart = -1;

    public JuteWriter(int capacity = 256) => _buffer = new byte[capacity];

    public int Length => _length;
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);
    public byte[] ToArray() => WrittenSpan.ToArray();
    public void Clear() { _length = 0; _frameStart = -1; }

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    public void BeginFrame()
    {
        _frameStart = _length;
        Grow(4);
    }

    public void EndFrame()
    {
        if (_frameStart < 0) throw new InvalidOperationException("EndFrame without BeginFrame");
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_frameStart), _length - _frameStart - 4);
        _frameStart = -1;
    }

    public void WriteInt(int value) => BinaryPrimitives.WriteInt32BigEndian(Grow(4), value);
    public void WriteLong(long value) => BinaryPrimitives.WriteInt64BigEndian(Grow(8), value);
    public void WriteBool(bool value) => Grow(1)[0] = value ? (byte)1 : (byte)0;
    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Grow(bytes.Length));

    public void WriteBuffer(ReadOnlySpan<byte> bytes, bool isNull = false)
    {
        if (isNull) { WriteInt(-1); return; }
        WriteInt(bytes.Length);
        WriteRaw(bytes);
    }

    public void WriteBuffer(byte[]? bytes) => WriteBuffer(bytes, bytes is null);

    public void WriteString(string? value)
    {
        if (value is null) { WriteInt(-1); return; }
        int byteCount = Encoding.UTF8.GetByteCount(value);
        WriteInt(byteCount);
        Encoding.UTF8.GetBytes(value, Grow(byteCount));
    }

    public void WriteVector<T>(IReadOnlyCollection<T>? items, Action<JuteWriter, T> write)
    {
        if (items is null) { WriteInt(-1); return; }
        WriteInt(items.Count);
        foreach (var item in items) write(this, item);
    }

    public void WriteStringVector(IReadOnlyCollection<string>? items) => WriteVector(items, static (w, s) => w.WriteString(s));
}
