using System.Buffers.Binary;
using System.IO.Compression;
using Snappier;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Storage.ZooKeeperImport;

/// <summary>
/// Reads a ZooKeeper 3.x snapshot file (FileSnap), all big-endian jute:
/// <code>
/// FileHeader    := magic "ZKSN" | version int = 2 | dbid long
/// sessions      := count int, then (id long, timeout int) each
/// ACL table     := count int, then (ref long, vector&lt;ACL&gt;) each; ref -1 means world:anyone with all permissions
/// nodes         := (path string, data buffer, acl ref long, StatPersisted) each, parents first, the root as "",
///                  until the path "/"
/// seal          := Adler-32 of every byte before it (long), then the string "/"
/// [3.6+ digest  := zxid long | digest version int | digest long | seal]   when zookeeper.digest.enabled (default)
/// [lastProcessedZxid long | seal]                                          when ZooKeeper writes it
/// </code>
/// StatPersisted is czxid, mzxid, ctime, mtime (longs), version, cversion, aversion (ints), ephemeralOwner, pzxid (longs).
/// The checksums cover the uncompressed bytes; a .gz file is gzip of them, a .snappy file snappy-java's stream
/// format (SnappyOutputStream: the header "\x82SNAPPY\0", two version ints, then blocks of length int and raw snappy).
/// </summary>
public static class ZooKeeperSnapshotReader
{
    private const int Magic = 0x5A4B534E; // "ZKSN"
    private const int SealSize = 8 + 4 + 1; // checksum, then the string "/"
    private const int DigestSize = 8 + 4 + 8 + SealSize;
    private const int LastZxidSize = 8 + SealSize;

    /// <summary>The tree and sessions of a snapshot, checked against its checksums.</summary>
    public static ImportedTree Read(ZooKeeperFile file, bool extendedTypes)
    {
        byte[] bytes;
        try
        {
            bytes = ReadAll(file);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException)
        {
            throw new ZooKeeperImportException($"{file.Path}: cannot be read: {e.Message}", e);
        }
        try
        {
            return Parse(bytes, file.Zxid, extendedTypes);
        }
        catch (Exception e) when (e is JuteException or InvalidDataException)
        {
            throw new ZooKeeperImportException($"{file.Path}: not a valid ZooKeeper snapshot: {e.Message}", e);
        }
    }

    private static byte[] ReadAll(ZooKeeperFile file)
    {
        if (file.Compression == SnapshotCompression.None) return File.ReadAllBytes(file.Path);
        if (file.Compression == SnapshotCompression.Snappy) return ReadSnappyJavaStream(File.ReadAllBytes(file.Path));
        using var input = File.OpenRead(file.Path);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var copy = new MemoryStream();
        gzip.CopyTo(copy);
        return copy.ToArray();
    }

    private static ReadOnlySpan<byte> SnappyJavaMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];
    private const int SnappyJavaHeaderSize = 16;

    private static byte[] ReadSnappyJavaStream(byte[] compressed)
    {
        using var output = new MemoryStream();
        int position = 0;
        while (position < compressed.Length)
        {
            // A stream starts with the header; concatenated streams repeat it.
            if (compressed.AsSpan(position).StartsWith(SnappyJavaMagic))
            {
                position += SnappyJavaHeaderSize;
                continue;
            }
            if (position == 0) throw new InvalidDataException("no snappy-java stream header (\\x82SNAPPY)");
            if (compressed.Length - position < 4) throw new InvalidDataException($"block length cut short at offset {position}");
            int length = BinaryPrimitives.ReadInt32BigEndian(compressed.AsSpan(position));
            position += 4;
            if (length < 0 || length > compressed.Length - position)
                throw new InvalidDataException($"a block of {length} bytes at offset {position - 4} runs past the end of the file");
            var block = compressed.AsSpan(position, length);
            var plain = new byte[Snappy.GetUncompressedLength(block)];
            Snappy.Decompress(block, plain);
            output.Write(plain);
            position += length;
        }
        return output.ToArray();
    }

    private static ImportedTree Parse(byte[] bytes, long zxid, bool extendedTypes)
    {
        var r = new JuteReader(bytes);
        int magic = r.ReadInt();
        if (magic != Magic) throw new InvalidDataException($"magic is 0x{magic:x8}, not \"ZKSN\"");
        int version = r.ReadInt();
        if (version != 2) throw new InvalidDataException($"format version {version}; only version 2 (ZooKeeper 3.x) is known");
        r.ReadLong(); // dbid: always 0

        var tree = new ImportedTree(extendedTypes) { LastZxid = zxid };
        int sessions = Count(ref r, "sessions", 12);
        for (int i = 0; i < sessions; i++) tree.Sessions[r.ReadLong()] = r.ReadInt();

        var acls = new Dictionary<long, IReadOnlyList<Acl>> { [-1] = Acl.OpenAclUnsafe };
        int aclCount = Count(ref r, "ACL table entries", 12);
        for (int i = 0; i < aclCount; i++)
        {
            long reference = r.ReadLong();
            acls[reference] = Acl.ReadList(ref r);
        }

        while (true)
        {
            var path = r.ReadString() ?? throw new InvalidDataException($"null node path at offset {r.Position - 4}");
            if (path == "/") break;
            var data = r.ReadBuffer();
            long aclRef = r.ReadLong();
            var node = new ImportedNode
            {
                Data = data,
                Acl = acls.GetValueOrDefault(aclRef) ?? throw new InvalidDataException($"node {path} refers to ACL {aclRef}, which the ACL table does not have"),
                Czxid = r.ReadLong(), Mzxid = r.ReadLong(), Ctime = r.ReadLong(), Mtime = r.ReadLong(),
                Version = r.ReadInt(), Cversion = r.ReadInt(), Aversion = r.ReadInt(), EphemeralOwner = r.ReadLong(), Pzxid = r.ReadLong(),
            };
            tree.AddFromSnapshot(path.Length == 0 ? "/" : path, node);
        }
        CheckSeal(bytes, ref r);

        // What follows the first seal depends on the version and settings that wrote it; each part has its own seal.
        switch (r.Remaining)
        {
            case 0: break;
            case DigestSize: ReadDigest(bytes, ref r, tree); break;
            case LastZxidSize: ReadLastZxid(bytes, ref r, tree); break;
            case DigestSize + LastZxidSize: ReadDigest(bytes, ref r, tree); ReadLastZxid(bytes, ref r, tree); break;
            default: throw new InvalidDataException($"{r.Remaining} unexpected bytes after the tree at offset {r.Position}");
        }
        if (!tree.Nodes.ContainsKey("/")) throw new InvalidDataException("there is no root node");
        return tree;
    }

    private static void ReadDigest(byte[] bytes, ref JuteReader r, ImportedTree tree)
    {
        long digestZxid = r.ReadLong();
        r.ReadInt(); // digest version
        r.ReadLong(); // the digest: Keeper keeps no tree digest
        CheckSeal(bytes, ref r);
        if (digestZxid > tree.LastZxid) tree.LastZxid = digestZxid;
    }

    private static void ReadLastZxid(byte[] bytes, ref JuteReader r, ImportedTree tree)
    {
        long lastProcessed = r.ReadLong();
        CheckSeal(bytes, ref r);
        if (lastProcessed > tree.LastZxid) tree.LastZxid = lastProcessed;
    }

    private static void CheckSeal(byte[] bytes, ref JuteReader r)
    {
        int at = r.Position;
        uint expected = Adler32.Compute(bytes.AsSpan(0, at));
        long stored = r.ReadLong();
        if (stored != expected)
            throw new InvalidDataException($"checksum at offset {at} is 0x{stored:x}, the content's is 0x{expected:x} (damaged or incomplete file)");
        if (r.ReadString() != "/") throw new InvalidDataException($"no \"/\" after the checksum at offset {at}");
    }

    private static int Count(ref JuteReader r, string what, int minBytesEach)
    {
        int at = r.Position;
        int count = r.ReadInt();
        if (count < 0 || (long)count * minBytesEach > r.Remaining)
            throw new InvalidDataException($"{count} {what} at offset {at} cannot fit in the file");
        return count;
    }
}
