using Microsoft.Win32.SafeHandles;

namespace Quill.Broker.Log;

/// <summary>One fixed-size entry of a segment index, as the file holds it (big-endian).</summary>
public interface IIndexEntry<TSelf> where TSelf : struct, IIndexEntry<TSelf>
{
    static abstract int Size { get; }

    static abstract TSelf Read(ReadOnlySpan<byte> bytes);

    void Write(Span<byte> bytes);
}

/// <summary>
/// What a segment's offset and time indexes share (Kafka's AbstractIndex): the file of fixed-size entries, read whole at
/// load and appended to after; the entries in memory (a few MB at most); the entry count and the limit from
/// segment.index.bytes; binary search; truncation, flush, rename. One writer (the log's owner) and any number of
/// lock-free readers: an entry, and any grown array, is published before the count that covers it, and readers read
/// the count first.
/// </summary>
public abstract class AbstractIndex<TEntry> : IDisposable where TEntry : struct, IIndexEntry<TEntry>
{
    private readonly SafeFileHandle _file;
    private readonly int _maxEntries;
    private TEntry[] _entries;
    private volatile int _count;

    protected AbstractIndex(string path, long baseOffset, int maxIndexBytes)
    {
        Path = path;
        BaseOffset = baseOffset;
        _maxEntries = Math.Max(1, maxIndexBytes / TEntry.Size);
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        byte[] bytes = ReadAll(_file);
        int count = bytes.Length / TEntry.Size;
        _entries = new TEntry[Math.Max(16, count)];
        for (int i = 0; i < count; i++) _entries[i] = TEntry.Read(bytes.AsSpan(i * TEntry.Size, TEntry.Size));
        _count = count;
        FileLengthIsWhole = bytes.Length % TEntry.Size == 0;
    }

    public string Path { get; private set; }
    public long BaseOffset { get; }
    public int Count => _count;
    public bool IsFull => _count >= _maxEntries;
    /// <summary>False when the file held a partial entry at load (a torn write): the index needs a rebuild.</summary>
    public bool FileLengthIsWhole { get; private set; }

    protected TEntry EntryAt(int i) => _entries[i];

    /// <summary>Writes the entry after the last one and publishes it. The caller checks order and room.</summary>
    protected void AppendEntry(TEntry entry)
    {
        int n = _count;
        Span<byte> bytes = stackalloc byte[TEntry.Size];
        entry.Write(bytes);
        RandomAccess.Write(_file, bytes, (long)n * TEntry.Size);
        if (n == _entries.Length)
        {
            var grown = new TEntry[Math.Min(_maxEntries, n * 2)];
            Array.Copy(_entries, grown, n);
            _entries = grown;
        }
        _entries[n] = entry;
        _count = n + 1; // volatile write publishes the entry (and any new array) to readers
    }

    /// <summary>
    /// The last entry whose key is at most <paramref name="target"/> (below it when <paramref name="strictlyBelow"/>), or
    /// -1; keys must grow with the entries. Lock-free: reads the count before the entries.
    /// </summary>
    protected (int Index, TEntry Entry) FindLast(Func<TEntry, long> key, long target, bool strictlyBelow = false)
    {
        int n = _count;
        var entries = _entries;
        int lo = 0, hi = n - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long k = key(entries[mid]);
            if (strictlyBelow ? k < target : k <= target) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found < 0 ? (-1, default) : (found, entries[found]);
    }

    /// <summary>Drops every entry (before a rebuild). Only while no reader can see the segment.</summary>
    public void Clear()
    {
        TruncateToEntries(0);
        FileLengthIsWhole = true;
    }

    /// <summary>Keeps the first <paramref name="count"/> entries, in memory and in the file.</summary>
    protected void TruncateToEntries(int count)
    {
        _count = count;
        RandomAccess.SetLength(_file, (long)count * TEntry.Size);
    }

    public void Flush() => RandomAccess.FlushToDisk(_file);

    public void Rename(string newPath)
    {
        File.Move(Path, newPath, overwrite: true);
        Path = newPath;
    }

    public void Dispose()
    {
        _file.Dispose();
        GC.SuppressFinalize(this);
    }

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
