using System.Buffers.Binary;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// The fixed 61-byte header of a magic-2 record batch, parsed into fields: all the log needs to index, validate
/// sequence numbers and scan segments without touching the records (layout in <see cref="RecordBatch"/>).
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
    public const int Size = RecordBatch.HeaderSize;

    /// <summary>Bytes of the whole batch on disk (the 12-byte log overhead plus batchLength).</summary>
    public int SizeInBytes => RecordBatch.LogOverhead + BatchLength;
    public long LastOffset => BaseOffset + LastOffsetDelta;
    public bool IsControl => (Attributes & 0x20) != 0;
    public bool IsTransactional => (Attributes & 0x10) != 0;
    public bool HasProducerId => ProducerId >= 0;
    public CompressionType Compression => (CompressionType)(Attributes & 0x07);

    /// <summary>The last sequence number, wrapping past int.MaxValue to 0 as Kafka's producers do.</summary>
    public int LastSequence => BaseSequence < 0 ? -1 : (int)(((long)BaseSequence + LastOffsetDelta) % ((long)int.MaxValue + 1));

    /// <summary>Parses the header at the start of <paramref name="bytes"/> (at least <see cref="Size"/> bytes).</summary>
    public static BatchHeader Parse(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadInt64BigEndian(bytes),
        BinaryPrimitives.ReadInt32BigEndian(bytes[8..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[12..]),
        bytes[16],
        BinaryPrimitives.ReadUInt32BigEndian(bytes[17..]),
        BinaryPrimitives.ReadInt16BigEndian(bytes[21..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[23..]),
        BinaryPrimitives.ReadInt64BigEndian(bytes[27..]),
        BinaryPrimitives.ReadInt64BigEndian(bytes[35..]),
        BinaryPrimitives.ReadInt64BigEndian(bytes[43..]),
        BinaryPrimitives.ReadInt16BigEndian(bytes[51..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[53..]),
        BinaryPrimitives.ReadInt32BigEndian(bytes[57..]));
}
