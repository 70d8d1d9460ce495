using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Quill.Broker.Log;

/// <summary>
/// The time index of one segment (Kafka's <c>.timeindex</c>): 12-byte entries of timestamp (int64) and
/// relative offset (int32), meaning "batches up to this offset have timestamps up to this one". Entries are
/// added with the offset index, only when the segment's max timestamp grew, so timestamps strictly increase.
/// Same threading as <see cref="OffsetIndex"/>: one writer, lock-free readers.
/// </summary>
public sealed class TimeIndex : IDisposable
{
    public const int EntrySize = 12;

    private readonly SafeFileHandle _file;
    private readonly int _maxEntries;
    private (long Timestamp, int RelativeOffset)[] _entries;
    private volatile int _count;

    public TimeIndex(string path, long baseOffset, int maxIndexBytes)
    {
        Path = path;
        BaseOffset = baseOffset;
        _maxEntries = Math.Max(1, maxIndexBytes / EntrySize);
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        byte[] bytes = OffsetIndex.ReadAll(_file);
        int count = bytes.Length / EntrySize;
        _entries = new (long, int)[Math.Max(16, count)];
        for (int i = 0; i < count; i++)
            _entries[i] = (BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(i * EntrySize)),
                BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(i * EntrySize + 8)));
        _count = count;
        FileLengthIsWhole = bytes.Length % EntrySize == 0;
    }

    public string Path { get; private set; }
    public long BaseOffset { get; }
    public int Count => _count;
    public bool IsFull => _count >= _maxEntries;
    public bool FileLengthIsWhole { get; private set; }

    public (long Timestamp, long Offset) this[int i] => (_entries[i].Timestamp, BaseOffset + _entries[i].RelativeOffset);

    public (long Timestamp, long Offset)? LastEntry => _count == 0 ? null : this[_count - 1];

    /// <summary>Adds an entry if <paramref name="timestamp"/> is newer than the last one.</summary>
    public void MaybeAppend(long timestamp, long offset)
    {
        int n = _count;
        if (n > 0 && timestamp <= _entries[n - 1].Timestamp) return;
        if (n >= _maxEntries) return; // full: the segment rolls on its next append
        if (n > 0 && offset < this[n - 1].Offset)
            throw new InvalidOperationException($"time index entry ({timestamp}, {offset}) goes back from {this[n - 1]}");
        Span<byte> bytes = stackalloc byte[EntrySize];
        BinaryPrimitives.WriteInt64BigEndian(bytes, timestamp);
        BinaryPrimitives.WriteInt32BigEndian(bytes[8..], (int)(offset - BaseOffset));
        RandomAccess.Write(_file, bytes, (long)n * EntrySize);
        if (n == _entries.Length)
        {
            var grown = new (long, int)[Math.Min(_maxEntries, n * 2)];
            Array.Copy(_entries, grown, n);
            _entries = grown;
        }
        _entries[n] = (timestamp, (int)(offset - BaseOffset));
        _count = n + 1;
    }

    /// <summary>
    /// The last entry with a timestamp strictly below <paramref name="timestamp"/>: every batch up to its offset
    /// is older than the target, so a scan for the first batch reaching the target may start there.
    /// </summary>
    public (long Timestamp, long Offset)? LookupBefore(long timestamp)
    {
        int n = _count;
        var entries = _entries;
        int lo = 0, hi = n - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (entries[mid].Timestamp < timestamp) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? null : (entries[found].Timestamp, BaseOffset + entries[found].RelativeOffset);
    }

    public bool IsSane(long nextOffset)
    {
        if (!FileLengthIsWhole) return false;
        for (int i = 0; i < _count; i++)
        {
            var (timestamp, offset) = this[i];
            if (offset < BaseOffset || offset >= nextOffset) return false;
            if (i > 0 && (timestamp <= this[i - 1].Timestamp || offset < this[i - 1].Offset)) return false;
        }
        return true;
    }

    public void Clear()
    {
        _count = 0;
        RandomAccess.SetLength(_file, 0);
        FileLengthIsWhole = true;
    }

    public void Flush() => RandomAccess.FlushToDisk(_file);

    public void Rename(string newPath)
    {
        File.Move(Path, newPath, overwrite: true);
        Path = newPath;
    }

    public void Dispose() => _file.Dispose();
}
