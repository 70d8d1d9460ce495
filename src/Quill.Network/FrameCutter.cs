using System.Buffers;
using System.Buffers.Binary;

namespace Quill.Network;

/// <summary>What <see cref="FrameCutter.TryCut"/> found at the start of the buffer.</summary>
public enum FrameCut
{
    /// <summary>A whole frame: it was cut off the buffer.</summary>
    Frame,
    /// <summary>Not a whole frame yet: read more.</summary>
    NeedMore,
    /// <summary>The size prefix is negative or over the limit: the stream cannot be followed any further.</summary>
    TooBig,
}

/// <summary>
/// Both Kafka and ZooKeeper put a 4-byte big-endian size before every frame, and both refuse a size past a limit
/// (socket.request.max.bytes, jute.maxbuffer) before reading the body. This is that rule, once.
/// </summary>
public static class FrameCutter
{
    public const int PrefixLength = 4;

    /// <summary>Reads the size prefix without consuming it; false when fewer than 4 bytes are there.</summary>
    public static bool TryPeekLength(in ReadOnlySequence<byte> buffer, out int length)
    {
        length = 0;
        if (buffer.Length < PrefixLength) return false;
        Span<byte> prefix = stackalloc byte[PrefixLength];
        buffer.Slice(0, PrefixLength).CopyTo(prefix);
        length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        return true;
    }

    /// <summary>
    /// Cuts the first frame off <paramref name="buffer"/>: on <see cref="FrameCut.Frame"/>, <paramref name="frame"/>
    /// is its body (without the prefix) and <paramref name="buffer"/> starts after it. <paramref name="length"/> is the
    /// size the prefix declared, whenever there was a prefix (for the log line of a refused frame).
    /// </summary>
    public static FrameCut TryCut(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out ReadOnlySequence<byte> frame, out int length)
    {
        frame = default;
        if (!TryPeekLength(buffer, out length)) return FrameCut.NeedMore;
        if (length < 0 || length > maxFrameBytes) return FrameCut.TooBig;
        if (buffer.Length - PrefixLength < length) return FrameCut.NeedMore;
        frame = buffer.Slice(PrefixLength, length);
        buffer = buffer.Slice(frame.End);
        return FrameCut.Frame;
    }
}
