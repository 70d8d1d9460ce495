using Microsoft.Win32.SafeHandles;

namespace Quill.Broker.Log;

/// <summary>
/// A range of whole record batches in a segment file, as a fetch returns them: the network copies the bytes
/// from the file to the socket without looking inside (positional reads, safe alongside appends). The segment's
/// file stays open for file.delete.delay.ms after retention or compaction drops it, so a range in flight stays readable.
/// </summary>
public readonly struct FileRecords
{
    private readonly LogSegment? _segment;

    internal FileRecords(LogSegment segment, long position, int length)
    {
        _segment = segment;
        Position = position;
        Length = length;
    }

    public static FileRecords Empty => default;

    public long Position { get; }
    public int Length { get; }
    public bool IsEmpty => Length == 0;
    /// <summary>The segment file, for callers that read it themselves (e.g. into a pooled socket buffer).</summary>
    public SafeFileHandle? Handle => _segment?.Handle;

    /// <summary>Copies the bytes into <paramref name="destination"/> (at least <see cref="Length"/> bytes).</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (Length == 0) return;
        _segment!.ReadExactly(Position, destination[..Length]);
    }

    /// <summary>
    /// Holds the range for a response that reads it while being written (see <see cref="FileRegionBytes"/>); throws
    /// <see cref="ObjectDisposedException"/> if the segment has been closed since the read found the range.
    /// </summary>
    public FileRegionBytes Hold() => new(_segment!, Position, Length);

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Streams the bytes to <paramref name="stream"/> through a pooled buffer.</summary>
    public async ValueTask CopyToAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        if (Length == 0) return;
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(Length, 256 * 1024));
        try
        {
            long position = Position, end = Position + Length;
            while (position < end)
            {
                int n = await RandomAccess.ReadAsync(_segment!.Handle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, end - position)), position, cancellationToken);
                if (n == 0) throw new EndOfStreamException($"{_segment} ends before position {end}");
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                position += n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>What a fetch gets from a log: the batches and the offsets the response reports beside them.</summary>
public readonly record struct LogReadResult(FileRecords Records, long HighWatermark, long LogStartOffset, long LogEndOffset);

/// <summary>What an append returns (Kafka's LogAppendInfo, trimmed to what produce responses carry).</summary>
/// <param name="LogAppendTime">The broker's time for LogAppendTime topics; -1 for CreateTime topics, as Kafka answers.</param>
/// <param name="IsDuplicate">A retried idempotent batch: nothing was appended, the offsets are the original ones.</param>
public readonly record struct LogAppendInfo(
    long FirstOffset,
    long LastOffset,
    long LogAppendTime,
    long LogStartOffset,
    long MaxTimestamp,
    int RecordCount,
    bool IsDuplicate);

/// <summary>A ListOffsets answer: the offset and the timestamp of the record found.</summary>
public readonly record struct TimestampAndOffset(long Timestamp, long Offset);

/// <summary>A position in the log (Kafka's LogOffsetMetadata): an offset with where its batch starts on disk.</summary>
internal sealed record LogOffsetMetadata(long Offset, long SegmentBaseOffset, int Position);
