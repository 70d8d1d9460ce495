using System.Buffers.Binary;
using System.Text;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// Re-encodes the records of a batch that survived compaction in part. The protocol project's
/// <see cref="RecordBatchBuilder"/> numbers records 0..n-1, but compaction must keep each record's original offset,
/// so this writer keeps the original batch's base offset, base timestamp, last offset delta (so the producer's
/// sequence range stays readable), producer fields and codec, and writes each record's own offset delta.
/// </summary>
internal static class CompactedBatchWriter
{
    public static byte[] Write(RecordBatch original, IReadOnlyList<Record> records)
    {
        using var plain = new KafkaWriter(256 + 64 * records.Count);
        long baseOffset = original.BaseOffset, baseTimestamp = original.BaseTimestamp;
        bool logAppendTime = original.TimestampType == TimestampType.LogAppendTime;
        long maxTimestamp = logAppendTime ? original.MaxTimestamp : long.MinValue;
        foreach (var r in records)
        {
            long timestampDelta = logAppendTime ? 0 : r.Timestamp - baseTimestamp;
            if (!logAppendTime) maxTimestamp = Math.Max(maxTimestamp, r.Timestamp);
            int offsetDelta = (int)(r.Offset - baseOffset);
            using var body = new KafkaWriter(64);
            body.WriteInt8(0);
            body.WriteVarlong(timestampDelta);
            body.WriteVarint(offsetDelta);
            WriteVarBytes(body, r.Key);
            WriteVarBytes(body, r.Value);
            body.WriteVarint(r.Headers.Count);
            foreach (var h in r.Headers)
            {
                var key = Encoding.UTF8.GetBytes(h.Key);
                body.WriteVarint(key.Length);
                body.WriteRaw(key);
                WriteVarBytes(body, h.Value);
            }
            plain.WriteVarint(body.Length);
            plain.WriteRaw(body.WrittenSpan);
        }

        using var output = new KafkaWriter(RecordBatch.HeaderSize + plain.Length);
        int start = output.Reserve(RecordBatch.HeaderSize);
        Compression.Compress(original.Compression, plain.WrittenSpan, output);
        var bytes = output.ToArray();
        var header = bytes.AsSpan(start);
        original.Bytes.Span[..RecordBatch.HeaderSize].CopyTo(header); // offsets, epoch, attributes, producer fields
        BinaryPrimitives.WriteInt32BigEndian(header[8..], bytes.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt64BigEndian(header[35..], maxTimestamp);
        BinaryPrimitives.WriteInt32BigEndian(header[57..], records.Count);
        BinaryPrimitives.WriteUInt32BigEndian(header[17..], Crc32C.Compute(header[21..]));
        return bytes;
    }

    private static void WriteVarBytes(KafkaWriter writer, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } b) { writer.WriteVarint(-1); return; }
        writer.WriteVarint(b.Length);
        writer.WriteRaw(b.Span);
    }
}
