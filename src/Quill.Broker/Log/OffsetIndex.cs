using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Quill.Broker.Log;

/// <summary>
/// The sparse offset index of one segment (Kafka's <c>.index</c>): 8-byte entries of relative offset (int32,
/// offset - base) and file position (int32) of a batch, one every index.interval.bytes. Entries live in memory
/// (a few MB at most) and are appended to the file; the file is only read at load. One writer (the log's
/// owner) and any number of lock-free readers: entries are published before the count that covers them.
/// </summary>
public sealed class OffsetIndex : IDisposable
{
    public const int EntrySize = 8;

    private readonly SafeFileHandle _file;
    private readonly int _maxEntries;
    private long[] _entries; // (relativeOffset << 32) | position
    private volatile int _count;

    public OffsetIndex(string path, long baseOffset, int maxIndexBytes)
    {
        Path = path;
        BaseOffset = baseOffset;
        _maxEntries = Math.Max(1, maxIndexBytes / EntrySize);
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        byte[] bytes = ReadAll(_file);
        int count = bytes.Length / EntrySize;
        _entries = new long[Math.Max(16, count)];
        for (int i = 0; i < count; i++)
        {
            uint rel = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(i * EntrySize));
            uint pos = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(i * EntrySize + 4));
            _entries[i] = (long)((ulong)rel << 32 | pos);
        }
        _count = count;
        FileLengthIsWhole = bytes.Length % EntrySize == 0;
    }

    public string Path { get; private set; }
    public long BaseOffset { get; }
    public int Count => _count;
    public bool IsFull => _count >= _maxEntries;
    /// <summary>False when the file held a partial entry at load (a torn write): the index needs a rebuild.</summary>
    public bool FileLengthIsWhole { get; private set; }

    public (long Offset, int Position) this[int i] => (BaseOffset + (int)(_entries[i] >> 32), (int)_entries[i]);

    public (long Offset, int Position)? LastEntry => _count == 0 ? null : this[_count - 1];

    /// <summary>Adds an entry; offsets and positions must grow. Called by the log's single writer.</summary>
    public void Append(long offset, int position)
    {
        if (IsFull) throw new InvalidOperationException($"offset index {Path} is full");
        int n = _count;
        if (n > 0 && (offset <= this[n - 1].Offset || position <= this[n - 1].Position))
            throw new InvalidOperationException($"offset index entry ({offset}, {position}) does not follow {this[n - 1]}");
        long entry = (long)((ulong)(uint)(offset - BaseOffset) << 32 | (uint)position);
        Span<byte> bytes = stackalloc byte[EntrySize];
        BinaryPrimitives.WriteInt32BigEndian(bytes, (int)(offset - BaseOffset));
        BinaryPrimitives.WriteInt32BigEndian(bytes[4..], position);
        RandomAccess.Write(_file, bytes, (long)n * EntrySize);
        if (n == _entries.Length)
        {
            var grown = new long[Math.Min(_maxEntries, n * 2)];
            Array.Copy(_entries, grown, n);
            grown[n] = entry;
            _entries = grown;
        }
        else _entries[n] = entry;
        _count = n + 1; // volatile write publishes the entry (and any new array) to readers
    }

    /// <summary>The last entry whose offset is at most <paramref name="offset"/>, or (base, 0) when none is.</summary>
    public (long Offset, int Position) Lookup(long offset)
    {
        int n = _count;
        long[] entries = _entries;
        long rel = offset - BaseOffset;
        int lo = 0, hi = n - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if ((entries[mid] >> 32) <= rel) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? (BaseOffset, 0) : (BaseOffset + (int)(entries[found] >> 32), (int)entries[found]);
    }

    /// <summary>The last entry whose position is at most <paramref name="position"/>, or (base, 0).</summary>
    public (long Offset, int Position) LookupByPosition(int position)
    {
        int n = _count;
        long[] entries = _entries;
        int lo = 0, hi = n - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if ((int)entries[mid] <= position) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? (BaseOffset, 0) : (BaseOffset + (int)(entries[found] >> 32), (int)entries[found]);
    }

    /// <summary>
    /// Checks the loaded entries against the segment: whole entries, offsets and positions strictly growing,
    /// positions inside the log file. Kafka runs the same kind of check before trusting an index.
    /// </summary>
    public bool IsSane(long logSize)
    {
        if (!FileLengthIsWhole) return false;
        for (int i = 0; i < _count; i++)
        {
            var (offset, position) = this[i];
            if (offset < BaseOffset || position < 0 || position >= logSize) return false;
            if (i > 0 && (offset <= this[i - 1].Offset || position <= this[i - 1].Position)) return false;
        }
        return true;
    }

    /// <summary>Drops every entry (before a rebuild). Only while no reader can see the segment.</summary>
    public void Clear()
    {
        _count = 0;
        RandomAccess.SetLength(_file, 0);
        FileLengthIsWhole = true;
    }

    /// <summary>Drops entries at or after <paramref name="offset"/> (after cutting a torn tail).</summary>
    public void TruncateTo(long offset)
    {
        int keep = 0;
        while (keep < _count && this[keep].Offset < offset) keep++;
        _count = keep;
        RandomAccess.SetLength(_file, (long)keep * EntrySize);
    }

    public void Flush() => RandomAccess.FlushToDisk(_file);

    public void Rename(string newPath)
    {
        File.Move(Path, newPath, overwrite: true);
        Path = newPath;
    }

    public void Dispose() => _file.Dispose();

    internal static byte[] ReadAll(SafeFileHandle file)
    {
        long length = RandomAccess.GetLength(file);
        var bytes = new byte[length];
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(file, bytes.AsSpan(read), read);
            if (n == 0) break;
            read += n;
        }
        return read == bytes.Length ? bytes : bytes[..read];
    }
}
