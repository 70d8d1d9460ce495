using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Hashing;

namespace Quill.Keeper.Storage;

/// <summary>How reading a log file ended.</summary>
internal enum TxnLogTail
{
    /// <summary>Still reading.</summary>
    None,
    /// <summary>The last frame ends exactly at the end of the file.</summary>
    Clean,
    /// <summary>Only zeros follow: preallocated space, or a header that was never written.</summary>
    ZeroFilled,
    /// <summary>The file ends inside a header or frame: a write that did not finish.</summary>
    Torn,
    /// <summary>A frame that cannot be data: impossible length or checksum mismatch.</summary>
    Corrupt,
}

/// <summary>
/// Reads one txn log file frame by frame (format in <see cref="TxnLogFormat"/>) and, where good data ends,
/// says why and at which offset. It never modifies the file; <see cref="TxnLog"/> decides what to do.
/// </summary>
internal sealed class TxnLogFileReader : IDisposable
{
    private readonly FileStream _stream;
    private readonly byte[] _scratch = new byte[Math.Max(TxnLogFormat.FileHeaderSize, TxnLogFormat.EntryHeaderSize)];
    private readonly Crc32 _crc = new();
    private long _corruptFrameEnd = -1;

    public TxnLogFileReader(string path)
    {
        FilePath = path;
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 1 << 16, FileOptions.SequentialScan);
        Length = _stream.Length;
        ReadFileHeader();
    }

    public string FilePath { get; }
    public long Length { get; }

    /// <summary>Offset just past the last good frame: 16 after a good header, 0 when the header is missing.</summary>
    public long GoodEnd { get; private set; }

    public TxnLogTail Tail { get; private set; }
    public string? TailReason { get; private set; }

    public bool TryReadNext([NotNullWhen(true)] out TxnEntry? entry)
    {
        entry = null;
        if (Tail != TxnLogTail.None) return false;

        long remaining = Length - GoodEnd;
        if (remaining == 0) return End(TxnLogTail.Clean, null);

        _stream.Position = GoodEnd;
        if (remaining < TxnLogFormat.FrameHeaderSize)
        {
            return RestIsZero(GoodEnd)
                ? End(TxnLogTail.ZeroFilled, "zero-filled space")
                : End(TxnLogTail.Torn, $"only {remaining} bytes left, less than a frame header");
        }

        Span<byte> frameHeader = _scratch.AsSpan(0, TxnLogFormat.FrameHeaderSize);
        _stream.ReadExactly(frameHeader);
        int length = BinaryPrimitives.ReadInt32LittleEndian(frameHeader);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(frameHeader[4..]);

        if (length == 0 && crc == 0)
        {
            return RestIsZero(GoodEnd)
                ? End(TxnLogTail.ZeroFilled, "zero-filled (preallocated) space")
                : End(TxnLogTail.Corrupt, "a zero frame header followed by non-zero bytes");
        }
        if (!TxnLogFormat.IsPlausiblePayloadLength(length))
            return End(TxnLogTail.Corrupt, $"impossible frame length {length}");
        if (remaining - TxnLogFormat.FrameHeaderSize < length)
            return End(TxnLogTail.Torn, $"frame of {length} bytes but only {remaining - TxnLogFormat.FrameHeaderSize} bytes left");

        var entryHeader = _scratch.AsSpan(0, TxnLogFormat.EntryHeaderSize);
        _stream.ReadExactly(entryHeader);
        var body = new byte[length - TxnLogFormat.EntryHeaderSize];
        _stream.ReadExactly(body);
        _crc.Reset();
        _crc.Append(entryHeader);
        _crc.Append(body);
        if (_crc.GetCurrentHashAsUInt32() != crc)
        {
            _corruptFrameEnd = GoodEnd + TxnLogFormat.FrameHeaderSize + length;
            return End(TxnLogTail.Corrupt, "checksum mismatch");
        }

        entry = TxnLogFormat.ReadEntry(entryHeader, body);
        GoodEnd += TxnLogFormat.FrameHeaderSize + length;
        return true;
    }

    /// <summary>
    /// After a checksum mismatch: whether a frame with a good checksum starts right after the bad one. If so
    /// the damage is in the middle of written data, not a write cut short at the end.
    /// </summary>
    public bool GoodFrameFollowsCorruptFrame()
    {
        if (Tail != TxnLogTail.Corrupt || _corruptFrameEnd < 0) return false;
        long offset = _corruptFrameEnd;
        if (Length - offset < TxnLogFormat.FrameHeaderSize) return false;
        _stream.Position = offset;
        Span<byte> frameHeader = stackalloc byte[TxnLogFormat.FrameHeaderSize];
        _stream.ReadExactly(frameHeader);
        int length = BinaryPrimitives.ReadInt32LittleEndian(frameHeader);
        if (!TxnLogFormat.IsPlausiblePayloadLength(length)) return false;
        if (Length - offset - TxnLogFormat.FrameHeaderSize < length) return false;
        var payload = new byte[length];
        _stream.ReadExactly(payload);
        return Crc32.HashToUInt32(payload) == BinaryPrimitives.ReadUInt32LittleEndian(frameHeader[4..]);
    }

    public void Dispose() => _stream.Dispose();

    private void ReadFileHeader()
    {
        if (Length < TxnLogFormat.FileHeaderSize)
        {
            if (Length == 0 || RestIsZero(0)) End(TxnLogTail.ZeroFilled, "empty file, header never written");
            else End(TxnLogTail.Torn, $"file is {Length} bytes, shorter than its header");
            return;
        }
        var header = _scratch.AsSpan(0, TxnLogFormat.FileHeaderSize);
        _stream.ReadExactly(header);
        if (!header.ContainsAnyExcept((byte)0))
        {
            End(TxnLogTail.ZeroFilled, "header never written");
            return;
        }
        if (header[..4].SequenceEqual(TxnLogFormat.ZooKeeperMagic))
            throw new InvalidDataException(
                $"{FilePath} is an Apache ZooKeeper txn log. Quill keeps its own log format; point its data log directory at an empty directory.");
        if (!header[..4].SequenceEqual(TxnLogFormat.Magic))
            throw new InvalidDataException($"{FilePath} is not a Quill txn log (unknown magic in its header).");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (version != TxnLogFormat.Version)
            throw new InvalidDataException($"{FilePath} has txn log format version {version}; this Quill reads version {TxnLogFormat.Version}.");
        GoodEnd = TxnLogFormat.FileHeaderSize;
    }

    private bool End(TxnLogTail tail, string? reason)
    {
        Tail = tail;
        TailReason = reason;
        return false;
    }

    private bool RestIsZero(long from)
    {
        _stream.Position = from;
        var chunk = new byte[(int)Math.Min(1 << 16, Math.Max(1, Length - from))];
        int read;
        while ((read = _stream.Read(chunk)) > 0)
        {
            if (chunk.AsSpan(0, read).ContainsAnyExcept((byte)0)) return false;
        }
        return true;
    }
}
