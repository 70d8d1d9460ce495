using System.Buffers.Binary;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Records;

/// <summary>Attribute bit 3 of a batch: where the timestamps came from.</summary>
public enum TimestampType : byte
{
    CreateTime = 0,
    LogAppendTime = 1,
}

/// <summary>
/// A view over one record batch (magic 2) in raw bytes; nothing is copied or decoded until asked. The header layout
/// is <see cref="BatchHeader"/>'s. The broker assigns offsets and leader epochs by rewriting the first 16 bytes,
/// which the CRC does not cover.
/// </summary>
public readonly struct RecordBatch
{
    public const int HeaderSize = BatchHeader.Size;
    public const int LogOverhead = BatchHeader.LogOverhead;
    public const byte CurrentMagic = 2;

    private readonly ReadOnlyMemory<byte> _bytes;

    private RecordBatch(ReadOnlyMemory<byte> bytes) => _bytes = bytes;

    /// <summary>The whole batch, from baseOffset to its last record.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;
    public int SizeInBytes => _bytes.Length;
    private ReadOnlySpan<byte> Span => _bytes.Span;

    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(Span);
    public int BatchLength => BinaryPrimitives.ReadInt32BigEndian(Span[BatchHeader.BatchLengthOffset..]);
    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(Span[BatchHeader.PartitionLeaderEpochOffset..]);
    public byte Magic => Span[BatchHeader.MagicOffset];
    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(Span[BatchHeader.CrcOffset..]);
    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(Span[BatchHeader.AttributesOffset..]);
    public CompressionType Compression => (CompressionType)(Attributes & 0x07);
    public TimestampType TimestampType => (Attributes & 0x08) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;
    public bool IsTransactional => (Attributes & 0x10) != 0;
    public bool IsControl => (Attributes & 0x20) != 0;
    public bool HasDeleteHorizon => (Attributes & 0x40) != 0;
    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(Span[BatchHeader.LastOffsetDeltaOffset..]);
    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(Span[BatchHeader.BaseTimestampOffset..]);
    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(Span[BatchHeader.MaxTimestampOffset..]);
    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(Span[BatchHeader.ProducerIdOffset..]);
    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(Span[BatchHeader.ProducerEpochOffset..]);
    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(Span[BatchHeader.BaseSequenceOffset..]);
    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(Span[BatchHeader.RecordCountOffset..]);
    public long LastOffset => BaseOffset + LastOffsetDelta;
    /// <summary>The records section, compressed as <see cref="Compression"/> says.</summary>
    public ReadOnlyMemory<byte> RecordsSection => _bytes[HeaderSize..];

    public uint ComputeCrc() => Crc32C.Compute(Span[BatchHeader.AttributesOffset..]);
    public bool IsCrcValid => ComputeCrc() == Crc;

    /// <summary>
    /// Reads the batch at the start of <paramref name="bytes"/>: checks that the header fits, that batchLength
    /// is consistent, and that the magic is 2. The CRC is not checked here (see <see cref="Validate"/>).
    /// </summary>
    public static RecordBatch Read(ReadOnlyMemory<byte> bytes)
    {
        if (bytes.Length < HeaderSize) throw new KafkaProtocolException($"record batch of {bytes.Length} bytes is shorter than its {HeaderSize}-byte header");
        int batchLength = BinaryPrimitives.ReadInt32BigEndian(bytes.Span[BatchHeader.BatchLengthOffset..]);
        if (batchLength < HeaderSize - LogOverhead) throw new KafkaProtocolException($"record batch length {batchLength} is shorter than a batch header");
        if (batchLength > bytes.Length - LogOverhead) throw new KafkaProtocolException($"record batch length {batchLength} exceeds the {bytes.Length - LogOverhead} bytes present");
        byte magic = bytes.Span[BatchHeader.MagicOffset];
        if (magic != CurrentMagic) throw new KafkaProtocolException($"record batch magic {magic} is not supported (only 2)");
        return new RecordBatch(bytes[..(LogOverhead + batchLength)]);
    }

    /// <summary>
    /// Splits a records field (batches back to back) into batches. A truncated last batch (as fetch responses
    /// may end with) is left out when <paramref name="allowPartialTail"/> is set, and an error otherwise.
    /// </summary>
    public static List<RecordBatch> ReadAll(ReadOnlyMemory<byte> records, bool allowPartialTail = false)
    {
        var batches = new List<RecordBatch>();
        while (!records.IsEmpty)
        {
            if (records.Length >= LogOverhead)
            {
                int batchLength = BinaryPrimitives.ReadInt32BigEndian(records.Span[BatchHeader.BatchLengthOffset..]);
                if (batchLength >= 0 && batchLength > records.Length - LogOverhead && allowPartialTail) break;
            }
            else if (allowPartialTail) break;
            var batch = Read(records);
            batches.Add(batch);
            records = records[batch.SizeInBytes..];
        }
        return batches;
    }

    /// <summary>Checks what a broker must before appending: header consistency and the CRC.</summary>
    public void Validate()
    {
        if (!IsCrcValid) throw new KafkaProtocolException($"record batch at offset {BaseOffset}: CRC {Crc:x8} does not match the computed {ComputeCrc():x8}");
        if (RecordCount < 0) throw new KafkaProtocolException($"record batch has a negative record count {RecordCount}");
        if (LastOffsetDelta < 0) throw new KafkaProtocolException($"record batch has a negative last offset delta {LastOffsetDelta}");
    }

    /// <summary>
    /// Decodes the records (decompressing first if needed), for when the broker must look inside a batch
    /// (compaction, control records). Throws <see cref="KafkaProtocolException"/> on anything malformed.
    /// </summary>
    public List<Record> ReadRecords(int maxDecompressedSize = Records.Compression.DefaultMaxDecompressedSize)
    {
        ReadOnlyMemory<byte> data = Compression == CompressionType.None
            ? RecordsSection
            : Records.Compression.Decompress(Compression, RecordsSection, maxDecompressedSize);
        int count = RecordCount;
        if (count < 0 || count > data.Length / 7 + 1)
            throw new KafkaProtocolException($"record count {count} cannot fit in {data.Length} bytes of records");
        var records = new List<Record>(count);
        var reader = new KafkaReader(data);
        long baseOffset = BaseOffset, baseTimestamp = BaseTimestamp;
        bool logAppend = TimestampType == TimestampType.LogAppendTime;
        for (int i = 0; i < count; i++)
        {
            try
            {
                records.Add(ReadRecord(ref reader, baseOffset, logAppend ? MaxTimestamp : baseTimestamp, logAppend));
            }
            catch (KafkaProtocolException e)
            {
                throw e.Within($"record[{i}]").InMessage($"record batch at offset {baseOffset}");
            }
        }
        return records;
    }

    private static Record ReadRecord(ref KafkaReader reader, long baseOffset, long baseTimestamp, bool logAppend)
    {
        int length = reader.ReadVarint();
        if (length < 0 || length > reader.Remaining) throw KafkaProtocolException.At(reader.Position, $"record length {length} exceeds the {reader.Remaining} bytes left");
        int end = reader.Position + length;
        reader.ReadInt8(); // attributes: unused
        long timestampDelta = reader.ReadVarlong();
        int offsetDelta = reader.ReadVarint();
        var key = ReadVarBytes(ref reader);
        var value = ReadVarBytes(ref reader);
        int headerCount = reader.ReadVarint();
        if (headerCount < 0 || headerCount > reader.Remaining / 2)
            throw KafkaProtocolException.At(reader.Position, $"header count {headerCount} cannot fit in {reader.Remaining} bytes");
        var headers = headerCount == 0 ? (IReadOnlyList<RecordHeader>)[] : new RecordHeader[headerCount];
        for (int h = 0; h < headerCount; h++)
        {
            int keyLength = reader.ReadVarint();
            if (keyLength < 0 || keyLength > reader.Remaining) throw KafkaProtocolException.At(reader.Position, $"header key length {keyLength} is invalid");
            string headerKey = System.Text.Encoding.UTF8.GetString(reader.TakeMemory(keyLength).Span);
            ((RecordHeader[])headers)[h] = new RecordHeader(headerKey, ReadVarBytes(ref reader));
        }
        if (reader.Position != end) throw KafkaProtocolException.At(reader.Position, $"record ends at {reader.Position}, its length says {end}");
        return new Record(baseOffset + offsetDelta, logAppend ? baseTimestamp : baseTimestamp + timestampDelta, key, value, headers);
    }

    private static ReadOnlyMemory<byte>? ReadVarBytes(ref KafkaReader reader)
    {
        int length = reader.ReadVarint();
        if (length == -1) return null;
        if (length < -1 || length > reader.Remaining) throw KafkaProtocolException.At(reader.Position, $"length {length} is invalid with {reader.Remaining} bytes left");
        return reader.TakeMemory(length);
    }
}
