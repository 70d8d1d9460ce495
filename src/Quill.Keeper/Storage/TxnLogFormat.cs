using System.Buffers.Binary;
using System.IO.Hashing;

namespace Quill.Keeper.Storage;

/// <summary>
/// On-disk format of a txn log file (all integers little-endian):
/// <code>
/// file    := header frame*  [zero-filled preallocated space]
/// header  := magic "QKTL" (4) | version u32 = 1 (4) | reserved u64 = 0 (8)              16 bytes
/// frame   := length i32 (4) | crc u32 (4) | payload (length bytes)
/// payload := zxid i64 | sessionId i64 | cxid i32 | time i64 | type i32 | body (length - 32 bytes)
/// crc     := CRC-32 (IEEE, System.IO.Hashing.Crc32) of the payload
/// </code>
/// A payload is at least 32 bytes, so a frame whose length reads 0 is never data: it marks the start of
/// preallocated (or never written) space. Zxids strictly increase within a file and across files, and the
/// file name (log.&lt;hex&gt;) is the zxid of its first frame.
/// </summary>
internal static class TxnLogFormat
{
    public const int FileHeaderSize = 16;
    public const uint Version = 1;
    public const int FrameHeaderSize = 8;
    public const int EntryHeaderSize = 32;

    /// <summary>Largest body accepted; far above ZooKeeper's 1 MiB jute.maxbuffer, low enough to spot a garbage length.</summary>
    public const int MaxBodySize = 64 * 1024 * 1024;

    public static ReadOnlySpan<byte> Magic => "QKTL"u8;

    /// <summary>Apache ZooKeeper's log magic, recognised only to give a clear error.</summary>
    public static ReadOnlySpan<byte> ZooKeeperMagic => "ZKLG"u8;

    public static void WriteFileHeader(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], 0);
    }

    public static int FrameSize(TxnEntry entry) => FrameSize(entry.Body.Length);
    public static int FrameSize(int bodyLength) => FrameHeaderSize + EntryHeaderSize + bodyLength;

    /// <summary>Writes one frame; <paramref name="destination"/> must be exactly <see cref="FrameSize(TxnEntry)"/> bytes.</summary>
    public static void WriteFrame(TxnEntry entry, Span<byte> destination) =>
        WriteFrame(entry.Zxid, entry.SessionId, entry.Cxid, entry.Time, entry.Type, entry.Body, destination);

    public static void WriteFrame(long zxid, long sessionId, int cxid, long time, int type, ReadOnlySpan<byte> body, Span<byte> destination)
    {
        var payload = destination[FrameHeaderSize..];
        BinaryPrimitives.WriteInt64LittleEndian(payload, zxid);
        BinaryPrimitives.WriteInt64LittleEndian(payload[8..], sessionId);
        BinaryPrimitives.WriteInt32LittleEndian(payload[16..], cxid);
        BinaryPrimitives.WriteInt64LittleEndian(payload[20..], time);
        BinaryPrimitives.WriteInt32LittleEndian(payload[28..], type);
        body.CopyTo(payload[EntryHeaderSize..]);
        BinaryPrimitives.WriteInt32LittleEndian(destination, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Crc32.HashToUInt32(payload));
    }

    public static bool IsPlausiblePayloadLength(int length) =>
        length >= EntryHeaderSize && length <= EntryHeaderSize + MaxBodySize;

    public static TxnEntry ReadEntry(ReadOnlySpan<byte> entryHeader, byte[] body) => new(
        Zxid: BinaryPrimitives.ReadInt64LittleEndian(entryHeader),
        SessionId: BinaryPrimitives.ReadInt64LittleEndian(entryHeader[8..]),
        Cxid: BinaryPrimitives.ReadInt32LittleEndian(entryHeader[16..]),
        Time: BinaryPrimitives.ReadInt64LittleEndian(entryHeader[20..]),
        Type: BinaryPrimitives.ReadInt32LittleEndian(entryHeader[28..]),
        Body: body);
}
