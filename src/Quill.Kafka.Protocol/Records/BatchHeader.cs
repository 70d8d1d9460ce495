using System.Buffers.Binary;

namespace Quill.Kafka.Protocol.Records;

/// <summary>
/// The fixed 61-byte header of a magic-2 record batch: where each field sits (the one place that names the offsets)
/// and the fields parsed, which is all a log needs to index, validate sequence numbers and scan segments without
/// touching the records. The CRC-32C covers everything from <see cref="AttributesOffset"/> to the batch's end, so the
/// first 17 bytes (base offset, length, leader epoch, magic) can be rewritten without re-signing.
/// </summary>
public readonly record struct BatchHeader(
    long BaseOffset,
    int BatchLength,
    int PartitionLeaderEpoch,
    byte Magic,
    uint Crc,
    short Attributes,
    int LastOffsetDelta,
    long BaseTimestamp,
    long MaxTimestamp,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    int RecordCount)
{
    public const int BaseOffsetOffset = 0;         // int64
    public const int BatchLengthOffset = 8;        // int32: bytes after this field
    public const int PartitionLeaderEpochOffset = 12; // int32
    public const int MagicOffset = 16;             // int8
    public const int CrcOffset = 17;               // uint32
    public const int AttributesOffset = 21;        // int16
    public const int LastOffsetDeltaOffset = 23;   // int32
    public const int BaseTimestampOffset = 27;     // int64
    public const int MaxTimestampOffset = 35;      // int64
    public const int ProducerIdOffset = 43;        // int64
    public const int ProducerEpochOffset = 51;     // int16
    public const int BaseSequenceOffset = 53;      // int32
    public const int RecordCountOffset = 57;       // int32
    public const int Size = 61;
    /// <summary>Bytes before the part batchLength counts: baseOffset and batchLength themselves.</summary>
    public const int LogOverhead = 12;

    /// <summary>Bytes of the whole batch on disk (the 12-byte log overhead plus batchLength).</summary>
    public int SizeInBytes => LogOverhead + BatchLength;
    public long LastOffset => BaseOffset + LastOffsetDelta;
    public bool IsControl => (Attributes & 0x20) != 0;
    public bool IsTransactional => (Attributes & 0x10) != 0;
    public bool HasProducerId => ProducerId >= 0;
    public bool IsLogAppendTime => (Attributes & 0x08) != 0;
    public CompressionType Compression => (CompressionType)(Attributes & 0x07);

    /// <summary>The last sequence number, wrapping past int.MaxValue to 0 as Kafka's producers do.</summary>
    public int LastSequence => BaseSequence < 0 ? -1 : (int)(((long)BaseSequence + LastOffsetDelta) % ((long)int.MaxValue + 1));

    /// <summary>Parses the header at the start of <paramref name="bytes"/> (at least <see cref="Size"/> bytes).</summary>
    public static BatchHeader Parse(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadInt64BigEndian(bytes),
        BinaryPrimitives.ReadInt32BigEndian(bytes[BatchLengthOffset..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[PartitionLeaderEpochOffset..]),
        bytes[MagicOffset],
        BinaryPrimitives.ReadUInt32BigEndian(bytes[CrcOffset..]),
        BinaryPrimitives.ReadInt16BigEndian(bytes[AttributesOffset..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[LastOffsetDeltaOffset..]),
        BinaryPrimitives.ReadInt64BigEndian(bytes[BaseTimestampOffset..]),
        BinaryPrimitives.ReadInt64BigEndian(bytes[MaxTimestampOffset..]),
        BinaryPrimitives.ReadInt64BigEndian(bytes[ProducerIdOffset..]),
        BinaryPrimitives.ReadInt16BigEndian(bytes[ProducerEpochOffset..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[BaseSequenceOffset..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[RecordCountOffset..]));

    /// <summary>Sets baseOffset in place (outside the CRC).</summary>
    public static void WriteBaseOffset(Span<byte> header, long baseOffset) => BinaryPrimitives.WriteInt64BigEndian(header, baseOffset);

    /// <summary>Sets partitionLeaderEpoch in place (outside the CRC).</summary>
    public static void WritePartitionLeaderEpoch(Span<byte> header, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(header[PartitionLeaderEpochOffset..], epoch);

    /// <summary>
    /// Sets maxTimestamp (and, for <paramref name="logAppendTime"/>, the LogAppendTime attribute) and re-signs the
    /// batch: the CRC over the patched header and <paramref name="records"/>, the still-encoded records after it.
    /// </summary>
    public static void WriteMaxTimestamp(Span<byte> header, ReadOnlySpan<byte> records, long timestamp, bool logAppendTime)
    {
        if (logAppendTime)
        {
            short attributes = BinaryPrimitives.ReadInt16BigEndian(header[AttributesOffset..]);
            BinaryPrimitives.WriteInt16BigEndian(header[AttributesOffset..], (short)(attributes | 0x08));
        }
        BinaryPrimitives.WriteInt64BigEndian(header[MaxTimestampOffset..], timestamp);
        Sign(header, records);
    }

    /// <summary>Writes the CRC-32C of the header's covered part followed by <paramref name="records"/>.</summary>
    public static void Sign(Span<byte> header, ReadOnlySpan<byte> records) =>
        BinaryPrimitives.WriteUInt32BigEndian(header[CrcOffset..], Crc32C.Append(Crc32C.Compute(header[AttributesOffset..Size]), records));
}
