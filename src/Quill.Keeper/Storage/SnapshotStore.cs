using System.Buffers.Binary;
using System.IO.Hashing;
using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Storage;

/// <summary>
/// Snapshots of the data tree as files snapshot.&lt;hex zxid&gt; in one directory (dataDir). The body is the
/// serialized state, opaque here. On-disk format (integers little-endian):
/// <code>
/// header := magic "QKSN" (4) | version u32 = 1 (4) | zxid i64 (8) | bodyLength i64 (8)
///           | crc32(body) u32 (4) | crc32(header bytes 0..28) u32 (4)                       32 bytes
/// body   := bodyLength bytes
/// </code>
/// A snapshot is written to snapshot.&lt;hex&gt;.tmp, fsynced, renamed into place and the directory fsynced, so
/// a visible snapshot is complete; the checksums catch damage after that.
/// <para>
/// Snapshots are exact: the body is an image of the state taken between two applies (see
/// <see cref="Snapshotter"/>), so it holds every txn up to its zxid and none after. Recovery loads it and
/// replays the log from the next zxid.
/// </para>
/// <para>Threads: one writer at a time; <see cref="ReadLatestValid"/> may run while nothing writes.</para>
/// </summary>
public sealed class SnapshotStore
{
    private const int HeaderSize = 32;
    private const uint Version = 1;
    private const string TempSuffix = ".tmp";
    private static ReadOnlySpan<byte> Magic => "QKSN"u8;

    private readonly string _directory;
    private readonly ILogger _logger;

    public SnapshotStore(string directory, ILogger logger)
    {
        _directory = Path.GetFullPath(directory);
        _logger = logger;
        Directory.CreateDirectory(_directory);
        foreach (var stale in Directory.EnumerateFiles(_directory, StorageFiles.SnapshotPrefix + "*" + TempSuffix))
        {
            _logger.LogInformation("Deleting unfinished snapshot {File}", stale);
            File.Delete(stale);
        }
    }

    public string DirectoryPath => _directory;

    /// <summary>
    /// Writes the snapshot of the tree as of <paramref name="zxid"/> (the last txn applied when serialization
    /// began); <paramref name="writeBody"/> serializes into the given stream (disposing it is harmless).
    /// Returns the final path once the snapshot is durable.
    /// </summary>
    public string Write(long zxid, Action<Stream> writeBody)
    {
        var finalPath = Path.Combine(_directory, StorageFiles.SnapshotFileName(zxid));
        var tempPath = finalPath + TempSuffix;
        try
        {
            using (var file = new FileStream(tempPath, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                file.Write(new byte[HeaderSize]);
                var body = new ChecksumStream(file);
                writeBody(body);
                file.Position = 0;
                Span<byte> header = stackalloc byte[HeaderSize];
                WriteHeader(header, zxid, body.BytesWritten, body.Checksum);
                file.Write(header);
                file.Flush(flushToDisk: true);
            }
            File.Move(tempPath, finalPath, overwrite: true);
            StorageFiles.SyncDirectory(_directory);
        }
        catch
        {
            TryDelete(tempPath);
            throw;
        }
        _logger.LogInformation("Wrote snapshot {File}", finalPath);
        return finalPath;
    }

    /// <summary>The newest snapshot whose checksums verify; invalid ones are logged and skipped. Null if none.</summary>
    public (long Zxid, byte[] Body)? ReadLatestValid()
    {
        var snapshots = StorageFiles.List(_directory, StorageFiles.SnapshotPrefix);
        for (int i = snapshots.Count - 1; i >= 0; i--)
        {
            var (zxid, path) = snapshots[i];
            var body = TryRead(path, zxid, out var problem);
            if (body is not null)
            {
                _logger.LogInformation("Loading snapshot {File}", path);
                return (zxid, body);
            }
            _logger.LogWarning("Snapshot {File} is invalid ({Problem}); trying an older one", path, problem);
        }
        if (snapshots.Count > 0)
            _logger.LogWarning("None of the {Count} snapshots in {Directory} is valid", snapshots.Count, _directory);
        return null;
    }

    private static byte[]? TryRead(string path, long nameZxid, out string? problem)
    {
        problem = null;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            long length = file.Length;
            if (length < HeaderSize)
            {
                problem = $"{length} bytes, shorter than the header";
                return null;
            }
            Span<byte> header = stackalloc byte[HeaderSize];
            file.ReadExactly(header);
            if (!header[..4].SequenceEqual(Magic)) problem = "unknown magic";
            else if (Crc32.HashToUInt32(header[..28]) != BinaryPrimitives.ReadUInt32LittleEndian(header[28..])) problem = "header checksum mismatch";
            else if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != Version) problem = "unsupported version";
            else if (BinaryPrimitives.ReadInt64LittleEndian(header[8..]) != nameZxid) problem = "zxid in header differs from file name";
            else if (BinaryPrimitives.ReadInt64LittleEndian(header[16..]) != length - HeaderSize)
                problem = $"header says {BinaryPrimitives.ReadInt64LittleEndian(header[16..])} body bytes, file has {length - HeaderSize}";
            if (problem is not null) return null;

            var body = new byte[length - HeaderSize];
            file.ReadExactly(body);
            if (Crc32.HashToUInt32(body) != BinaryPrimitives.ReadUInt32LittleEndian(header[24..]))
            {
                problem = "body checksum mismatch";
                return null;
            }
            return body;
        }
        catch (IOException ex)
        {
            problem = ex.Message;
            return null;
        }
    }

    private static void WriteHeader(Span<byte> header, long zxid, long bodyLength, uint bodyChecksum)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], zxid);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], bodyChecksum);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], Crc32.HashToUInt32(header[..28]));
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException ex)
        {
            _logger.LogWarning(ex, "Could not delete {File}", path);
        }
    }

    /// <summary>Passes writes through to the file while checksumming and counting them; never closes the file.</summary>
    private sealed class ChecksumStream(Stream inner) : Stream
    {
        private readonly Crc32 _crc = new();

        public long BytesWritten { get; private set; }
        public uint Checksum => _crc.GetCurrentHashAsUInt32();

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => BytesWritten;
        public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _crc.Append(buffer);
            inner.Write(buffer);
            BytesWritten += buffer.Length;
        }

        public override void WriteByte(byte value) => Write([value]);
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
