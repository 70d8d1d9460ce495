using System.Buffers.Binary;

namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>One entry of a ZooKeeper txn log: the TxnHeader's fields, the txn record's bytes, where it lies in the file.</summary>
public sealed record ZooKeeperLogEntry(long SessionId, int Cxid, long Zxid, long Time, int Type, byte[] Record, long Offset, long End);

/// <summary>
/// Reads a ZooKeeper txn log file (FileTxnLog), all big-endian:
/// <code>
/// FileHeader := magic "ZKLG" | version int = 2 | dbid long
/// entry      := Adler-32 of the txn bytes (long) | length int | txn bytes | 'B'
/// txn bytes  := TxnHeader (clientId long, cxid int, zxid long, time long, type int) | txn record [| TxnDigest]
/// </code>
/// ZooKeeper preallocates log files with zeros, so an entry of length 0 ends the file. An entry that is cut short,
/// lacks its 'B' or fails its checksum is the torn tail of a crash when it is in the newest file and nothing but
/// zeros follows it: the txn was never acknowledged, and reading stops there (with a warning), as ZooKeeper does.
/// Anywhere else it is damage, and the file is refused.
/// </summary>
public static class ZooKeeperTxnLogReader
{
    private const int Magic = 0x5A4B4C47; // "ZKLG"
    private const int HeaderSize = 16;
    private const int TxnHeaderSize = 8 + 4 + 8 + 8 + 4;

    public static List<ZooKeeperLogEntry> Read(ZooKeeperFile file, bool isNewest, Action<string> warn)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file.Path);
        }
        catch (IOException e)
        {
            throw new ZooKeeperImportException($"{file.Path}: cannot be read: {e.Message}", e);
        }
        var entries = new List<ZooKeeperLogEntry>();
        if (bytes.Length < HeaderSize)
        {
            // ZooKeeper creates the file and writes the header with the first entry: a crash between leaves it short.
            if (isNewest && bytes.AsSpan().IndexOfAnyExcept((byte)0) < 0) return entries;
            throw new ZooKeeperImportException($"{file.Path}: {bytes.Length} bytes, shorter than a txn log header");
        }
        int magic = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (magic != Magic) throw new ZooKeeperImportException($"{file.Path}: magic is 0x{magic:x8}, not \"ZKLG\": not a ZooKeeper txn log");
        int version = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        if (version != 2) throw new ZooKeeperImportException($"{file.Path}: txn log format version {version}; only version 2 (ZooKeeper 3.x) is known");

        long position = HeaderSize;
        while (position < bytes.Length)
        {
            var problem = TryReadEntry(bytes, position, out var entry);
            if (entry is null && problem is null) break; // zero length: the preallocated rest of the file
            if (problem is not null)
            {
                long end = entry?.End ?? bytes.Length;
                bool onlyZerosAfter = end >= bytes.Length || bytes.AsSpan((int)end).IndexOfAnyExcept((byte)0) < 0;
                if (isNewest && onlyZerosAfter)
                {
                    warn($"{file.Path}: the entry at offset {position} is incomplete ({problem}): the tail of a crash, " +
                         $"never acknowledged; reading stops there after {entries.Count} entries");
                    break;
                }
                throw new ZooKeeperImportException($"{file.Path}: the entry at offset {position} is damaged ({problem})" +
                    (isNewest ? " and more data follows it" : " in a log that is not the newest"));
            }
            entries.Add(entry!);
            position = entry!.End;
        }
        return entries;
    }

    /// <summary>Null entry and null problem: the end. A problem and maybe the entry's extent: a bad entry.</summary>
    private static string? TryReadEntry(byte[] bytes, long position, out ZooKeeperLogEntry? entry)
    {
        entry = null;
        var rest = bytes.AsSpan((int)position);
        if (rest.Length < 12) return rest.IndexOfAnyExcept((byte)0) < 0 ? null : $"only {rest.Length} bytes left for an entry";
        long checksum = BinaryPrimitives.ReadInt64BigEndian(rest);
        int length = BinaryPrimitives.ReadInt32BigEndian(rest[8..]);
        if (length == 0) return null;
        if (length < 0) return $"negative length {length}";
        long end = position + 12 + length + 1;
        if (end > bytes.Length) return $"{length} bytes announced, {rest.Length - 12} left in the file";
        var txn = rest.Slice(12, length);
        var placeholder = new ZooKeeperLogEntry(0, 0, 0, 0, 0, [], position, end);
        if (rest[12 + length] != (byte)'B')
        {
            entry = placeholder;
            return "no end-of-record marker 'B'";
        }
        uint actual = Adler32.Compute(txn);
        if (checksum != actual)
        {
            entry = placeholder;
            return $"checksum 0x{checksum:x} stored, 0x{actual:x} computed";
        }
        if (length < TxnHeaderSize)
        {
            entry = placeholder;
            return $"{length} bytes cannot hold a txn header";
        }
        entry = new ZooKeeperLogEntry(
            SessionId: BinaryPrimitives.ReadInt64BigEndian(txn),
            Cxid: BinaryPrimitives.ReadInt32BigEndian(txn[8..]),
            Zxid: BinaryPrimitives.ReadInt64BigEndian(txn[12..]),
            Time: BinaryPrimitives.ReadInt64BigEndian(txn[20..]),
            Type: BinaryPrimitives.ReadInt32BigEndian(txn[28..]),
            Record: txn[TxnHeaderSize..].ToArray(), Offset: position, End: end);
        return null;
    }
}
