using System.Buffers.Binary;

namespace Quill.Keeper.Client.Connection;

/// <summary>
/// Reads 4-byte big-endian length-prefixed frames from a stream into one reusable buffer, reading as much as the
/// socket has each time so a burst of replies costs one read. A returned frame is valid until the next call.
/// </summary>
internal sealed class FrameReader(Stream stream, int maxFrameLength)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    public async ValueTask<ReadOnlyMemory<byte>> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_start == _end) _start = _end = 0;
            int available = _end - _start;
            if (available >= 4)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start, 4));
                if (length < 0 || length > maxFrameLength)
                    throw new IOException($"frame length {length} is outside 0..{maxFrameLength}");
                if (available >= 4 + length)
                {
                    var frame = _buffer.AsMemory(_start + 4, length);
                    _start += 4 + length;
                    return frame;
                }
                MakeRoom(4 + length);
            }
            else MakeRoom(4);

            int read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0) throw new EndOfStreamException("the server closed the connection");
            _end += read;
        }
    }

    /// <summary>Ensures the frame starting at _start, of total size <paramref name="needed"/>, fits in the buffer.</summary>
    private void MakeRoom(int needed)
    {
        if (_start + needed <= _buffer.Length && _end < _buffer.Length) return;
        int available = _end - _start;
        if (needed > _buffer.Length)
        {
            var bigger = new byte[Math.Max(needed, _buffer.Length * 2)];
            _buffer.AsSpan(_start, available).CopyTo(bigger);
            _buffer = bigger;
        }
        else _buffer.AsSpan(_start, available).CopyTo(_buffer);
        _start = 0;
        _end = available;
    }
}
