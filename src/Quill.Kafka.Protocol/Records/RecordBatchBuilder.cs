using System.Buffers.Binary;
using System.Text;
using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Records;

/// <summary>
/// Writes one record batch (magic 2), e.g. for the broker's own records in __consumer_offsets. Add records,
/// then <see cref="Build"/>. Offsets are consecutive from <see cref="BaseOffset"/>.
/// </summary>
public sealed class RecordBatchBuilder(CompressionType compression = CompressionType.None)
{
    private readonly List<(long Timestamp, ReadOnlyMemory<byte>? Key, ReadOnlyMemory<byte>? Value, RecordHeader[] Headers)> _records = [];

    public CompressionType Compression { get; } = compression;
    public long BaseOffset { get; init; }
    public int PartitionLeaderEpoch { get; init; } = -1;
    public long ProducerId { get; init; } = -1;
    public short ProducerEpoch { get; init; } = -1;
    public int BaseSequence { get; init; } = -1;
    public bool IsTransactional { get; init; }
    public bool IsControl { get; init; }
    public TimestampType TimestampType { get; init; } = TimestampType.CreateTime;
    public int Count => _records.Count;

    public RecordBatchBuilder Add(long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, params RecordHeader[] headers)
    {
        _records.Add((timestamp, key, value, headers));
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
        long baseTimestamp = _records.Min(r => r.Timestamp);
        long maxTimestamp = _records.Max(r => r.Timestamp);

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
        BinaryPrimitives.WriteInt32BigEndian(header[8..], header.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], PartitionLeaderEpoch);
        header[16] = RecordBatch.CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(header[21..], attributes);
        BinaryPrimitives.WriteInt32BigEndian(header[23..], _records.Count - 1);
        BinaryPrimitives.WriteInt64BigEndian(header[27..], baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[35..], maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(header[43..], ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(header[51..], ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(header[53..], BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(header[57..], _records.Count);
        BinaryPrimitives.WriteUInt32BigEndian(header[17..], Crc32C.Compute(header[21..]));
    }

    private void WriteRecords(KafkaWriter writer, long baseTimestamp)
    {
        for (int i = 0; i < _records.Count; i++)
        {
            var (timestamp, key, value, headers) = _records[i];
            long timestampDelta = timestamp - baseTimestamp;
            int size = 1 + KafkaWriter.SizeOfVarlong(timestampDelta) + KafkaWriter.SizeOfVarint(i)
                + SizeOfVarBytes(key) + SizeOfVarBytes(value) + KafkaWriter.SizeOfVarint(headers.Length);
            foreach (var h in headers)
            {
                int keyBytes = Encoding.UTF8.GetByteCount(h.Key);
                size += KafkaWriter.SizeOfVarint(keyBytes) + keyBytes + SizeOfVarBytes(h.Value);
            }
            writer.WriteVarint(size);
            writer.WriteInt8(0);
            writer.WriteVarlong(timestampDelta);
            writer.WriteVarint(i);
            WriteVarBytes(writer, key);
            WriteVarBytes(writer, value);
            writer.WriteVarint(headers.Length);
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
