using Microsoft.Win32.SafeHandles;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Broker.Log;

/// <summary>
/// A fetch's hold on the batches it returns, from the moment its response is made until that response has been written:
/// the connection reads them from the segment file straight into its send buffers (<see cref="KafkaWriter.Splices"/>).
/// The hold keeps the file descriptor open, so a segment that retention, compaction or a topic deletion closes and
/// unlinks meanwhile is still read whole (an unlinked file stays readable while open); dispose it to let go.
/// </summary>
public sealed class FileRegionBytes : ExternalBytes
{
    private readonly SafeFileHandle _file;
    private readonly long _position;
    private readonly LogSegment _segment;
    private int _released;

    /// <summary>Throws <see cref="ObjectDisposedException"/> when the segment's file is closed already.</summary>
    internal FileRegionBytes(LogSegment segment, long position, int length)
    {
        bool added = false;
        segment.Handle.DangerousAddRef(ref added);
        _file = segment.Handle;
        _segment = segment;
        _position = position;
        Length = length;
    }

    public override int Length { get; }

    public override void ReadAt(long offset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _released) != 0, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset + destination.Length, Length);
        long position = _position + offset;
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_file, destination, position);
            if (n == 0) throw new EndOfStreamException($"{_segment.LogPath} ends at {position}, before the {Length} bytes from {_position} a fetch returns");
            destination = destination[n..];
            position += n;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) _file.DangerousRelease();
    }
}
