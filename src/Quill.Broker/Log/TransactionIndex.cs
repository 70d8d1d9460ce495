using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Quill.Broker.Log;

/// <summary>
/// One aborted transaction (Kafka's AbortedTxn): its producer, its first data offset, the offset of its ABORT
/// marker, and the partition's last stable offset right after the marker (lets a lookup stop early).
/// </summary>
public readonly record struct AbortedTxn(long ProducerId, long FirstOffset, long LastOffset, long LastStableOffset);

/// <summary>
/// The aborted transaction index of one segment (Kafka's <c>.txnindex</c>): 34-byte entries of version (int16, 0),
/// producer id, first offset, last offset and last stable offset (int64 each), in the order the ABORT markers
/// were written; an entry lives in the segment holding its marker. read_committed fetches use it to tell the
/// consumer which producers' data in the range to drop. Entries are few (one per aborted transaction), so they
/// are all held in memory; one writer (the log, under its lock), lock-free readers of a published array.
/// </summary>
public sealed class TransactionIndex : IDisposable
{
    public const int EntrySize = 34;
    private const short EntryVersion = 0;

    private readonly SafeFileHandle _file;
    private volatile AbortedTxn[] _entries;
    private bool _dirty; // written since the last fsync (aborts are rare: most flushes skip this file)

    public TransactionIndex(string path)
    {
        Path = path;
        WasMissing = !File.Exists(path);
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        byte[] bytes = OffsetIndex.ReadAll(_file);
        var entries = new List<AbortedTxn>(bytes.Length / EntrySize);
        IsSane = bytes.Length % EntrySize == 0;
        for (int at = 0; at + EntrySize <= bytes.Length; at += EntrySize)
        {
            var e = bytes.AsSpan(at, EntrySize);
            if (BinaryPrimitives.ReadInt16BigEndian(e) != EntryVersion) { IsSane = false; break; }
            entries.Add(new AbortedTxn(BinaryPrimitives.ReadInt64BigEndian(e[2..]), BinaryPrimitives.ReadInt64BigEndian(e[10..]),
                BinaryPrimitives.ReadInt64BigEndian(e[18..]), BinaryPrimitives.ReadInt64BigEndian(e[26..])));
        }
        _entries = [.. entries];
    }

    public string Path { get; private set; }
    /// <summary>The file did not exist when the segment was opened (an older log, or it was lost): it must be rebuilt.</summary>
    public bool WasMissing { get; }
    /// <summary>False if the file held a torn entry or an unknown version when loaded.</summary>
    public bool IsSane { get; private set; }
    public IReadOnlyList<AbortedTxn> Entries => _entries;

    public void Append(AbortedTxn entry)
    {
        var current = _entries;
        Span<byte> bytes = stackalloc byte[EntrySize];
        BinaryPrimitives.WriteInt16BigEndian(bytes, EntryVersion);
        BinaryPrimitives.WriteInt64BigEndian(bytes[2..], entry.ProducerId);
        BinaryPrimitives.WriteInt64BigEndian(bytes[10..], entry.FirstOffset);
        BinaryPrimitives.WriteInt64BigEndian(bytes[18..], entry.LastOffset);
        BinaryPrimitives.WriteInt64BigEndian(bytes[26..], entry.LastStableOffset);
        RandomAccess.Write(_file, bytes, (long)current.Length * EntrySize);
        _entries = [.. current, entry];
        _dirty = true;
    }

    public void Clear()
    {
        RandomAccess.SetLength(_file, 0);
        _entries = [];
        IsSane = true;
        _dirty = true;
    }

    public void Flush()
    {
        if (!_dirty) return;
        RandomAccess.FlushToDisk(_file);
        _dirty = false;
    }

    public void Rename(string newPath)
    {
        File.Move(Path, newPath, overwrite: true);
        Path = newPath;
    }

    public void Dispose() => _file.Dispose();
}
