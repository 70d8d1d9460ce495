using System.Buffers.Binary;
using System.Text;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Records;

/// <summary>
/// Writes one record batch (magic 2), e.g. for the broker's own records in __consumer_offsets. Add records,
/// then <see cref="Build"/>. Offsets are consecutive from <see cref="BaseOffset"/> unless records are added with
/// their own offset delta (compaction keeps each surviving record's original offset, and the batch's original base
/// timestamp and last offset delta through the optional overrides).
/// </summary>
public sealed class RecordBatchBuilder(CompressionType compression = CompressionType.None)
{
    private readonly List<(int OffsetDelta, long Timestamp, ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value, IReadOnlyList<RecordHeader> Headers)> _records = [];

    public CompressionType Compression { get; } = compression;
    public long BaseOffset { get; init; }
    public int PartitionLeaderEpoch { get; init; } = -1;
    public long ProducerId { get; init; } = -1;
    public short ProducerEpoch { get; init; } = -1;
    public int BaseSequence { get; init; } = -1;
    public bool IsTransactional { get; init; }
    public bool IsControl { get; init; }
    public TimestampType TimestampType { get; init; } = TimestampType.CreateTime;
    /// <summary>The batch's base timestamp; by default the smallest record timestamp.</summary>
    public long? BaseTimestamp { get; init; }
    /// <summary>The batch's max timestamp; by default the largest record timestamp (a LogAppendTime batch's append time).</summary>
    public long? MaxTimestamp { get; init; }
    /// <summary>The batch's last offset delta; by default the largest record offset delta.</summary>
    public int? LastOffsetDelta { get; init; }
    public int Count => _records.Count;

    public RecordBatchBuilder Add(long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, params RecordHeader[] headers)
    {
        _records.Add((_records.Count == 0 ? 0 : _records[^1].OffsetDelta + 1, timestamp, key, value, headers));
        return this;
    }

    /// <summary>Adds a record at <paramref name="offsetDelta"/> from the base offset (increasing from record to record).</summary>
    public RecordBatchBuilder Add(int offsetDelta, long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, IReadOnlyList<RecordHeader> headers)
    {
        if (_records.Count > 0 && offsetDelta <= _records[^1].OffsetDelta)
            throw new ArgumentException($"offset delta {offsetDelta} does not follow {_records[^1].OffsetDelta}", nameof(offsetDelta));
        _records.Add((offsetDelta, timestamp, key, value, headers));
        return this;
    }

    public byte[] Build()
    {
        using var writer = new KafkaWriter(HeaderSizeHint());
        WriteTo(writer);
        return writer.ToArray();
    }

    private int HeaderSizeHint() => RecordBatch.HeaderSize + 64 * _records.Count;

    /// <summary>Appends the batch to <paramref name="output"/>.</summary>
    public void WriteTo(KafkaWriter output)
    {
        if (_records.Count == 0) throw new InvalidOperationException("a record batch needs at least one record");
        long baseTimestamp = BaseTimestamp ?? _records.Min(r => r.Timestamp);
        long maxTimestamp = MaxTimestamp ?? _records.Max(r => r.Timestamp);
        // In a LogAppendTime batch every record's time is the batch's max timestamp; the deltas are not read.
        if (TimestampType == TimestampType.LogAppendTime) baseTimestamp = BaseTimestamp ?? maxTimestamp;

        int start = output.Reserve(RecordBatch.HeaderSize);
        if (Compression == CompressionType.None) WriteRecords(output, baseTimestamp);
        else
        {
            using var plain = new KafkaWriter(HeaderSizeHint());
            WriteRecords(plain, baseTimestamp);
            Records.Compression.Compress(Compression, plain.WrittenSpan, output);
        }

        var header = output.Slice(start, output.Length - start);
        short attributes = (short)((byte)Compression
            | (TimestampType == TimestampType.LogAppendTime ? 0x08 : 0)
            | (IsTransactional ? 0x10 : 0)
            | (IsControl ? 0x20 : 0));
        BinaryPrimitives.WriteInt64BigEndian(header, BaseOffset);
        BinaryPrimitives.WriteInt32BigEndian(header[BatchHeader.BatchLengthOffset..], header.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(header[BatchHeader.PartitionLeaderEpochOffset..], PartitionLeaderEpoch);
        header[BatchHeader.MagicOffset] = RecordBatch.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(header[BatchHeader.AttributesOffset..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(header[BatchHeader.LastOffsetDeltaOffset..], LastOffsetDelta ?? _records[^1].OffsetDelta);
        BinaryPrimitives.WriteInt64BigEndian(header[BatchHeader.BaseTimestampOffset..], baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[BatchHeader.MaxTimestampOffset..], maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[BatchHeader.ProducerIdOffset..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(header[BatchHeader.ProducerEpochOffset..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(header[BatchHeader.BaseSequenceOffset..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(header[BatchHeader.RecordCountOffset..], _records.Count);
        BinaryPrimitives.WriteUInt32BigEndian(header[BatchHeader.CrcOffset..], Crc32C.Compute(header[BatchHeader.AttributesOffset..]));
    }

    private void WriteRecords(KafkaWriter writer, long baseTimestamp)
    {
        bool logAppendTime = TimestampType == TimestampType.LogAppendTime;
        for (int i = 0; i < _records.Count; i++)
        {
            var (offsetDelta, timestamp, key, value, headers) = _records[i];
            long timestampDelta = logAppendTime ? 0 : timestamp - baseTimestamp;
            int size = 1 + KafkaWriter.SizeOfVarlong(timestampDelta) + KafkaWriter.SizeOfVarint(offsetDelta)
                + SizeOfVarBytes(key) + SizeOfVarBytes(value) + KafkaWriter.SizeOfVarint(headers.Count);
            foreach (var h in headers)
            {
                int keyBytes = Encoding.UTF8.GetByteCount(h.Key);
                size += KafkaWriter.SizeOfVarint(keyBytes) + keyBytes + SizeOfVarBytes(h.Value);
            }
            writer.WriteVarint(size);
            writer.WriteInt8(0);
            writer.WriteVarlong(timestampDelta);
            writer.WriteVarint(offsetDelta);
            WriteVarBytes(writer, key);
            WriteVarBytes(writer, value);
            writer.WriteVarint(headers.Count);
            foreach (var h in headers)
            {
                var keyBytes = Encoding.UTF8.GetBytes(h.Key);
                writer.WriteVarint(keyBytes.Length);
                writer.WriteRaw(keyBytes);
                WriteVarBytes(writer, h.Value);
            }
        }
    }

    private static int SizeOfVarBytes(ReadOnlyMemory<byte>? bytes) =>
        bytes is { } b ? KafkaWriter.SizeOfVarint(b.Length) + b.Length : 1;

    private static void WriteVarBytes(KafkaWriter writer, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } b) { writer.WriteVarint(-1); return; }
        writer.WriteVarint(b.Length);
        writer.WriteRaw(b.Span);
    }
}
