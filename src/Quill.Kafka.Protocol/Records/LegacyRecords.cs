using System.Buffers.Binary;
using System.IO.Hashing;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Records;

/// <summary>
/// Message sets of magic 0 and 1, the formats before record batches (Kafka 0.10 and older), which old clients still
/// produce (Produce v0-2) and expect from Fetch v0-3. The broker stores only magic 2: produced message sets are
/// converted up into one batch, and fetched batches are converted down, as Kafka 3.x does.
/// <para>
/// Layout of one message: offset int64 @0, size int32 @8 (bytes after it), crc uint32 @12 (CRC-32, IEEE, of everything
/// from magic on), magic int8 @16, attributes int8 @17 (codec in bits 0-2; in magic 1, bit 3 = LogAppendTime),
/// timestamp int64 @18 (magic 1 only), key and value as int32-length bytes (-1 for null). A compressed message (the
/// "wrapper") holds in its value a compressed message set of the inner messages.
/// </para>
/// </summary>
public static class LegacyRecords
{
    private const int MagicOffset = 16;
    private const int MinSizeV0 = 4 + 1 + 1 + 4 + 4; // crc, magic, attributes, key length, value length
    private const int MinSizeV1 = MinSizeV0 + 8;     // and the timestamp

    /// <summary>The magic byte of the first entry of a records field, or -1 if it is too short to have one.</summary>
    public static int MagicOf(ReadOnlySpan<byte> records) => records.Length > MagicOffset ? records[MagicOffset] : -1;

    /// <summary>
    /// Converts a produced message set (magic 0 or 1, compressed or not) into one magic-2 batch with the same keys,
    /// values and timestamps (magic 0 has none: -1), compressed with the codec it came with. Offsets start at 0
    /// (the log assigns them). Throws <see cref="KafkaProtocolException"/> for a bad CRC, a truncated message,
    /// magic 2 mixed in, or a compressed message inside a compressed one.
    /// </summary>
    public static byte[] ToBatch(ReadOnlyMemory<byte> messageSet, int maxDecompressedSize = Compression.DefaultMaxDecompressedSize)
    {
        var builder = (RecordBatchBuilder?)null;
        var compression = CompressionType.None;
        foreach (var message in Read(messageSet))
        {
            if (message.Compression == CompressionType.None)
            {
                builder ??= new RecordBatchBuilder(compression);
                builder.Add(message.Timestamp, message.Key, message.Value);
                continue;
            }
            if (builder is null) compression = message.Compression;
            builder ??= new RecordBatchBuilder(compression);
            if (message.Value is not { } compressed) throw new KafkaProtocolException("a compressed message has a null value");
            if (message.Magic == 0 && message.Compression == CompressionType.Lz4) compressed = FixLz4HeaderChecksum(compressed);
            var inner = Compression.Decompress(message.Compression, compressed, maxDecompressedSize);
            foreach (var innerMessage in Read(inner))
            {
                if (innerMessage.Compression != CompressionType.None)
                    throw new KafkaProtocolException("a compressed message holds another compressed message");
                // A LogAppendTime wrapper's timestamp stands for every inner message.
                long timestamp = message.LogAppendTime ? message.Timestamp : innerMessage.Timestamp;
                builder.Add(timestamp, innerMessage.Key, innerMessage.Value);
            }
        }
        if (builder is null || builder.Count == 0) throw new KafkaProtocolException("the message set holds no messages");
        return builder.Build();
    }

    /// <summary>
    /// Magic-0 LZ4 was written with a frame header checksum computed over the wrong bytes (including the 4-byte frame
    /// magic); Kafka reads such frames without checking it. A copy with the checksum the LZ4 format expects lets a
    /// standard decoder read them.
    /// </summary>
    private static ReadOnlyMemory<byte> FixLz4HeaderChecksum(ReadOnlyMemory<byte> frame)
    {
        var span = frame.Span;
        if (span.Length < 7 || BinaryPrimitives.ReadUInt32LittleEndian(span) != 0x184D2204) return frame;
        int descriptorLength = (span[4] & 0x08) != 0 ? 10 : 2; // FLG, BD and, when flagged, the 8-byte content size
        if (span.Length < 4 + descriptorLength + 1) return frame;
        var copy = span.ToArray();
        copy[4 + descriptorLength] = (byte)(K4os.Hash.xxHash.XXH32.DigestOf(copy, 4, descriptorLength) >> 8);
        return copy;
    }

    /// <summary>One message of a set, its key and value slices of the input.</summary>
    private readonly record struct Message(long Offset, byte Magic, CompressionType Compression, bool LogAppendTime, long Timestamp,
        ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value);

    private static List<Message> Read(ReadOnlyMemory<byte> set)
    {
        var messages = new List<Message>();
        int position = 0;
        var span = set.Span;
        while (position < span.Length)
        {
            var rest = span[position..];
            if (rest.Length < 12 + MinSizeV0)
                throw new KafkaProtocolException($"{rest.Length} trailing bytes at position {position} are not a whole message");
            int size = BinaryPrimitives.ReadInt32BigEndian(rest[8..]);
            byte magic = rest[MagicOffset];
            if (magic > 1) throw new KafkaProtocolException($"message at position {position} has magic {magic} in a magic 0/1 message set");
            if (size < (magic == 0 ? MinSizeV0 : MinSizeV1) || size > rest.Length - 12)
                throw new KafkaProtocolException($"message at position {position} has size {size} but {rest.Length - 12} bytes follow");
            var body = rest.Slice(MagicOffset, size - 4);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(rest[12..]);
            uint computed = Crc32.HashToUInt32(body);
            if (crc != computed)
                throw new KafkaProtocolException($"message at position {position}: CRC {crc:x8} does not match the computed {computed:x8}");
            byte attributes = body[1];
            var reader = new KafkaReader(set.Slice(position + MagicOffset + 2, size - 6));
            long timestamp = magic == 0 ? -1 : reader.ReadInt64();
            var key = ReadBytes(ref reader, "key");
            var value = ReadBytes(ref reader, "value");
            if (!reader.AtEnd) throw new KafkaProtocolException($"message at position {position} has {reader.Remaining} bytes after its value");
            var codec = (CompressionType)(attributes & 0x07);
            if (codec > CompressionType.Lz4) throw new KafkaProtocolException($"message at position {position} has an unknown codec {(int)codec}");
            messages.Add(new Message(BinaryPrimitives.ReadInt64BigEndian(rest), magic, codec, magic == 1 && (attributes & 0x08) != 0, timestamp, key, value));
            position += 12 + size;
        }
        return messages;
    }

    private static ReadOnlyMemory<byte>? ReadBytes(ref KafkaReader reader, string what)
    {
        int length = reader.ReadInt32();
        if (length == -1) return null;
        if (length < -1 || length > reader.Remaining) throw new KafkaProtocolException($"{what} length {length} does not fit the {reader.Remaining} bytes left");
        return reader.TakeMemory(length);
    }

    /// <summary>
    /// Writes the records of magic-2 <paramref name="batches"/> (back to back; a partial last batch is left out) as
    /// uncompressed messages of <paramref name="magic"/> 0 or 1 with their absolute offsets, leaving out control
    /// batches and records below <paramref name="fromOffset"/>. Headers have no place in these formats and are
    /// dropped. Returns the number of messages written.
    /// </summary>
    public static int WriteDownConverted(ReadOnlyMemory<byte> batches, byte magic, long fromOffset, KafkaWriter output)
    {
        if (magic > 1) throw new ArgumentOutOfRangeException(nameof(magic), "down-conversion is to magic 0 or 1");
        int written = 0;
        foreach (var batch in RecordBatch.ReadAll(batches, allowPartialTail: true))
        {
            if (batch.IsControl || batch.LastOffset < fromOffset) continue;
            byte attributes = (byte)(magic == 1 && batch.TimestampType == TimestampType.LogAppendTime ? 0x08 : 0);
            foreach (var record in batch.ReadRecords())
            {
                if (record.Offset < fromOffset) continue;
                output.WriteInt64(record.Offset);
                int sizeAt = output.Reserve(4);
                int crcAt = output.Reserve(4);
                int bodyStart = output.Length;
                output.WriteInt8((sbyte)magic);
                output.WriteInt8((sbyte)attributes);
                if (magic == 1) output.WriteInt64(record.Timestamp);
                WriteBytes(output, record.Key);
                WriteBytes(output, record.Value);
                int bodyLength = output.Length - bodyStart;
                output.PatchInt32(sizeAt, bodyLength + 4);
                output.PatchInt32(crcAt, (int)Crc32.HashToUInt32(output.Slice(bodyStart, bodyLength)));
                written++;
            }
        }
        return written;
    }

    private static void WriteBytes(KafkaWriter output, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } b) { output.WriteInt32(-1); return; }
        output.WriteInt32(b.Length);
        output.WriteRaw(b.Span);
    }
}
