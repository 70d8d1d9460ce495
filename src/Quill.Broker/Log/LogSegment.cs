using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// One segment of a partition log: the batch file <c>{base}.log</c> with its offset and time indexes and its
/// aborted transaction index (created with the segment, even when empty, so a missing one means "rebuild").
/// Batches are appended whole, as they arrived (with offsets already in their headers), and read back as byte
/// ranges. Appends come from the log's single writer; reads are positional and lock-free, bounded by a size the
/// reader captured, so they never see a half-written batch.
/// </summary>
public sealed class LogSegment : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly int _indexIntervalBytes;
    private volatile int _size;
    private int _bytesSinceLastIndexEntry;
    private long _maxTimestampSoFar = -1;
    private long _offsetOfMaxTimestampSoFar = -1;

    /// <param name="suffix">Appended to all four file names (the cleaner builds segments as <c>.cleaned</c>).</param>
    public LogSegment(string dir, long baseOffset, LogConfig config, long createdMs, string suffix = "")
    {
        Dir = dir;
        BaseOffset = baseOffset;
        _indexIntervalBytes = config.IndexIntervalBytes;
        LogPath = LogFileNames.LogFile(dir, baseOffset) + suffix;
        string indexPath = LogFileNames.IndexFile(dir, baseOffset) + suffix;
        string timeIndexPath = LogFileNames.TimeIndexFile(dir, baseOffset) + suffix;
        IndexFilesWereMissing = !File.Exists(indexPath) || !File.Exists(timeIndexPath);
        _file = File.OpenHandle(LogPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        _size = checked((int)RandomAccess.GetLength(_file));
        OffsetIndex = new OffsetIndex(indexPath, baseOffset, config.SegmentIndexBytes);
        TimeIndex = new TimeIndex(timeIndexPath, baseOffset, config.SegmentIndexBytes);
        TxnIndex = new TransactionIndex(LogFileNames.TxnIndexFile(dir, baseOffset) + suffix);
        CreatedMs = createdMs;
        NextOffset = baseOffset;
    }

    public string Dir { get; }
    public long BaseOffset { get; }
    public string LogPath { get; private set; }
    public OffsetIndex OffsetIndex { get; }
    public TimeIndex TimeIndex { get; }
    public TransactionIndex TxnIndex { get; }
    public SafeFileHandle Handle => _file;
    /// <summary>Bytes of whole batches in the file.</summary>
    public int Size => _size;
    /// <summary>One past the last offset in the segment (the base offset when empty).</summary>
    public long NextOffset { get; private set; }
    /// <summary>When the segment was created, or its first batch's timestamp after a reload: segment.ms counts from here.</summary>
    public long CreatedMs { get; private set; }
    public bool IndexFilesWereMissing { get; }
    public long MaxTimestampSoFar => Volatile.Read(ref _maxTimestampSoFar);
    public long OffsetOfMaxTimestampSoFar => Volatile.Read(ref _offsetOfMaxTimestampSoFar);

    /// <summary>The newest timestamp in the segment (retention.ms compares with it); the file's mtime when it has none.</summary>
    public long LargestTimestamp => MaxTimestampSoFar >= 0 ? MaxTimestampSoFar
        : new DateTimeOffset(File.GetLastWriteTimeUtc(LogPath)).ToUnixTimeMilliseconds();

    /// <summary>
    /// Writes <paramref name="buffers"/> (the batches described by <paramref name="batches"/>, back to back) at the
    /// end of the file in one gathered write, then indexes them. Called only by the log's writer.
    /// </summary>
    public void Append(ReadOnlySpan<BatchHeader> batches, IReadOnlyList<ReadOnlyMemory<byte>> buffers, int totalBytes)
    {
        int position = _size;
        try
        {
            RandomAccess.Write(_file, buffers, position);
        }
        catch (IOException)
        {
            try { RandomAccess.SetLength(_file, position); } catch (IOException) { } // drop a partial write
            throw;
        }
        foreach (var batch in batches)
        {
            IndexBatch(batch, position);
            position += batch.SizeInBytes;
        }
        if (position - _size != totalBytes) throw new InvalidOperationException("segment append: batch sizes do not add up");
        NextOffset = batches[^1].LastOffset + 1;
        _size = position; // publish after the bytes are in the file
    }

    private void IndexBatch(in BatchHeader batch, int position)
    {
        if (batch.MaxTimestamp > _maxTimestampSoFar)
        {
            Volatile.Write(ref _offsetOfMaxTimestampSoFar, batch.LastOffset);
            Volatile.Write(ref _maxTimestampSoFar, batch.MaxTimestamp);
        }
        if (_bytesSinceLastIndexEntry > _indexIntervalBytes)
        {
            OffsetIndex.Append(batch.LastOffset, position);
            TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar);
            _bytesSinceLastIndexEntry = 0;
        }
        _bytesSinceLastIndexEntry += batch.SizeInBytes;
    }

    /// <summary>Whether an append of <paramref name="bytes"/> ending at <paramref name="lastOffset"/> must go to a new segment.</summary>
    public bool ShouldRoll(LogConfig config, int bytes, long lastOffset, long nowMs)
    {
        if (_size == 0) return false;
        return (long)_size + bytes > config.SegmentBytes
            || nowMs - CreatedMs >= config.SegmentMs
            || OffsetIndex.IsFull || TimeIndex.IsFull
            || lastOffset - BaseOffset > int.MaxValue;
    }

    /// <summary>Kafka's last step before a segment stops being active: record its max timestamp in the time index.</summary>
    public void OnBecomeInactive()
    {
        if (_maxTimestampSoFar >= 0) TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar);
    }

    /// <summary>Reads the 61-byte header at <paramref name="position"/>; null past <paramref name="limit"/> or for a partial header.</summary>
    public BatchHeader? ReadHeader(int position, int limit)
    {
        if (position + BatchHeader.Size > limit) return null;
        Span<byte> buffer = stackalloc byte[BatchHeader.Size];
        if (RandomAccess.Read(_file, buffer, position) < BatchHeader.Size) return null;
        var header = BatchHeader.Parse(buffer);
        return header.BatchLength < BatchHeader.Size - RecordBatch.LogOverhead || (long)position + header.SizeInBytes > limit
            ? null : header;
    }

    /// <summary>Reads the whole batch at <paramref name="position"/> into a new array.</summary>
    public byte[] ReadBatch(int position, in BatchHeader header)
    {
        var bytes = new byte[header.SizeInBytes];
        ReadExactly(position, bytes);
        return bytes;
    }

    public void ReadExactly(long position, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = RandomAccess.Read(_file, destination, position);
            if (n == 0) throw new EndOfStreamException($"{LogPath} ends before position {position + destination.Length}");
            destination = destination[n..];
            position += n;
        }
    }

    /// <summary>
    /// The position of the first batch whose last offset is at least <paramref name="offset"/>, looking only below
    /// <paramref name="limit"/>; -1 if there is none. An index lookup, then a scan of at most one index interval.
    /// </summary>
    public (int Position, BatchHeader Header)? TranslateOffset(long offset, int limit)
    {
        int position = offset <= BaseOffset ? 0 : OffsetIndex.Lookup(offset).Position;
        while (ReadHeader(position, limit) is { } header)
        {
            if (header.LastOffset >= offset) return (position, header);
            position += header.SizeInBytes;
        }
        return null;
    }

    /// <summary>
    /// Whole batches from the one containing <paramref name="offset"/>, up to <paramref name="maxBytes"/> and never
    /// past <paramref name="maxPosition"/>; the first batch is returned whole even if larger (so consumers progress).
    /// Null when no batch at or after <paramref name="offset"/> lies below <paramref name="maxPosition"/>.
    /// </summary>
    public FileRecords? Read(long offset, int maxBytes, int maxPosition)
    {
        if (TranslateOffset(offset, maxPosition) is not var (start, first)) return null;
        long limit = Math.Min((long)maxPosition, (long)start + Math.Max(maxBytes, first.SizeInBytes));
        // Cut at a batch boundary: jump to the last indexed batch before the limit, then scan forward.
        int end = start + first.SizeInBytes;
        int indexed = OffsetIndex.LookupByPosition((int)limit).Position;
        int position = Math.Max(end, indexed);
        if (indexed > end) end = indexed; // an indexed position is a batch start, and batches before it fit
        while (ReadHeader(position, (int)limit) is { } header)
        {
            position += header.SizeInBytes;
            end = position;
        }
        return new FileRecords(this, start, end - start);
    }

    /// <summary>
    /// The first record at or after <paramref name="startingOffset"/> whose timestamp is at least
    /// <paramref name="timestamp"/>: the time index finds where to start, batch headers find the batch, and the
    /// batch's records (decompressed if need be) give the exact record, as Kafka's ListOffsets does.
    /// </summary>
    public (long Timestamp, long Offset)? FindOffsetByTimestamp(long timestamp, long startingOffset)
    {
        int limit = _size;
        var before = TimeIndex.LookupBefore(timestamp);
        long from = Math.Max(startingOffset, before?.Offset ?? BaseOffset);
        if (TranslateOffset(from, limit) is not var (position, _)) return null;
        while (ReadHeader(position, limit) is { } header)
        {
            if (header.MaxTimestamp >= timestamp && header.LastOffset >= startingOffset)
            {
                var batch = RecordBatch.Read(ReadBatch(position, header));
                foreach (var record in batch.ReadRecords())
                    if (record.Timestamp >= timestamp && record.Offset >= startingOffset) return (record.Timestamp, record.Offset);
            }
            position += header.SizeInBytes;
        }
        return null;
    }

    /// <summary>
    /// Rescans the file (recovery after an unclean shutdown, or a missing/broken index): checks every batch's
    /// size, magic, CRC-32C and offsets, rebuilds both indexes, and cuts the file at the first bad byte.
    /// Returns the number of bytes cut. <paramref name="onBatch"/> sees each valid batch header.
    /// (Batch sizes are not held to max.message.bytes here: the setting may have shrunk since they were written.)
    /// </summary>
    public int Recover(Action<BatchHeader>? onBatch = null)
    {
        OffsetIndex.Clear();
        TimeIndex.Clear();
        _bytesSinceLastIndexEntry = 0;
        _maxTimestampSoFar = -1;
        _offsetOfMaxTimestampSoFar = -1;
        int fileSize = checked((int)RandomAccess.GetLength(_file));
        int position = 0;
        long expectedOffset = BaseOffset;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (ReadHeader(position, fileSize) is { } header)
            {
                if (header.Magic != RecordBatch.CurrentMagic || header.LastOffsetDelta < 0 || header.BaseOffset < expectedOffset
                    || header.LastOffset - BaseOffset > int.MaxValue)
                    break;
                if (buffer.Length < header.SizeInBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(header.SizeInBytes);
                }
                var bytes = buffer.AsSpan(0, header.SizeInBytes);
                ReadExactly(position, bytes);
                if (Crc32C.Compute(bytes[21..]) != header.Crc) break;
                IndexBatch(header, position);
                onBatch?.Invoke(header);
                expectedOffset = header.LastOffset + 1;
                position += header.SizeInBytes;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        int truncated = fileSize - position;
        if (truncated > 0) RandomAccess.SetLength(_file, position);
        _size = position;
        NextOffset = expectedOffset;
        if (position > 0) TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar);
        return truncated;
    }

    /// <summary>
    /// Loads a segment trusted to be whole (flushed before the recovery point): the next offset from a scan past
    /// the last index entry, the max timestamp from the time index. False if the indexes disagree with the file,
    /// in which case the caller recovers the segment instead.
    /// </summary>
    public bool TryLoadWithoutScan()
    {
        if (IndexFilesWereMissing || !OffsetIndex.IsSane(_size)) return false;
        int position = OffsetIndex.LastEntry?.Position ?? 0;
        long next = BaseOffset;
        while (ReadHeader(position, _size) is { } header)
        {
            next = header.LastOffset + 1;
            position += header.SizeInBytes;
        }
        if (position != _size) return false;
        if (!TimeIndex.IsSane(next) || (_size > 0 && TimeIndex.Count == 0)) return false;
        NextOffset = next;
        if (TimeIndex.LastEntry is var (ts, offset))
        {
            _maxTimestampSoFar = ts;
            _offsetOfMaxTimestampSoFar = offset;
        }
        _bytesSinceLastIndexEntry = _size - (OffsetIndex.LastEntry?.Position ?? 0);
        return true;
    }

    /// <summary>After a reload, segment.ms counts from the first batch's timestamp, as in Kafka.</summary>
    public void SetRollBaseFromFirstBatch(long fallbackMs)
    {
        CreatedMs = ReadHeader(0, _size) is { } first && first.MaxTimestamp >= 0 ? first.MaxTimestamp : fallbackMs;
    }

    public void Flush()
    {
        RandomAccess.FlushToDisk(_file);
        OffsetIndex.Flush();
        TimeIndex.Flush();
        TxnIndex.Flush();
    }

    /// <summary>Renames the four files to their names plus <paramref name="suffix"/> (e.g. dropping ".cleaned").</summary>
    internal void RenameFiles(string suffix)
    {
        string log = LogFileNames.LogFile(Dir, BaseOffset) + suffix;
        File.Move(LogPath, log, overwrite: true);
        LogPath = log;
        OffsetIndex.Rename(LogFileNames.IndexFile(Dir, BaseOffset) + suffix);
        TimeIndex.Rename(LogFileNames.TimeIndexFile(Dir, BaseOffset) + suffix);
        TxnIndex.Rename(LogFileNames.TxnIndexFile(Dir, BaseOffset) + suffix);
    }

    /// <summary>Unlinks the files; open handles keep working for reads in flight until <see cref="Dispose"/>.</summary>
    public void DeleteFiles()
    {
        File.Delete(LogPath);
        File.Delete(OffsetIndex.Path);
        File.Delete(TimeIndex.Path);
        File.Delete(TxnIndex.Path);
    }

    public void Dispose()
    {
        _file.Dispose();
        OffsetIndex.Dispose();
        TimeIndex.Dispose();
        TxnIndex.Dispose();
    }

    public override string ToString() => $"LogSegment({LogPath}, base {BaseOffset}, size {_size})";
}
