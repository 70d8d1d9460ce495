using System.Buffers.Binary;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// Checks produced record batches before anything is written, as Kafka's LogValidator does for magic 2, without
/// re-encoding them: framing and magic (CorruptMessage), CRC-32C (CorruptMessage), size against
/// max.message.bytes (MessageTooLarge), record count against lastOffsetDelta, no control batches from clients
/// and no transactional batch without a producer id (InvalidRecord). Every record is then walked (compressed batches
/// decompressed first) so that nothing stored is unreadable later: a record that does not decode is CorruptMessage.
/// The walk also gives each CreateTime batch its true max timestamp (some producers leave -1 there; Kafka recomputes
/// it too), and on compacted topics every record without a key is named in the refusal (InvalidRecord with
/// RecordErrors, as Kafka answers Produce v8+). Uncompressed batches are walked in place, allocating nothing.
/// </summary>
public static class BatchValidator
{
    /// <summary>Parses and validates every batch of <paramref name="records"/> into <paramref name="headers"/>.</summary>
    public static void Validate(ReadOnlyMemory<byte> records, LogConfig config, List<BatchHeader> headers, AppendOrigin origin = AppendOrigin.Client)
    {
        headers.Clear();
        var span = records.Span;
        if (span.IsEmpty) throw new LogException(KafkaError.CorruptMessage, "no record batches to append");
        int position = 0;
        while (position < span.Length)
        {
            var rest = span[position..];
            if (rest.Length < RecordBatch.LogOverhead + 5)
                throw new LogException(KafkaError.CorruptMessage, $"{rest.Length} trailing bytes at position {position} are not a record batch");
            int batchLength = BinaryPrimitives.ReadInt32BigEndian(rest[BatchHeader.BatchLengthOffset..]);
            byte magic = rest[BatchHeader.MagicOffset];
            if (magic != RecordBatch.CurrentMagic)
                throw new LogException(KafkaError.CorruptMessage, $"record batch at position {position} has magic {magic}; only magic 2 is supported");
            if (batchLength < BatchHeader.Size - RecordBatch.LogOverhead || batchLength > rest.Length - RecordBatch.LogOverhead)
                throw new LogException(KafkaError.CorruptMessage, $"record batch at position {position} has length {batchLength} but {rest.Length - RecordBatch.LogOverhead} bytes follow");
            var header = BatchHeader.Parse(rest);
            if (header.SizeInBytes > config.MaxMessageBytes)
                throw new LogException(KafkaError.MessageTooLarge, $"record batch of {header.SizeInBytes} bytes exceeds max.message.bytes {config.MaxMessageBytes}");
            var batchBytes = rest[..header.SizeInBytes];
            uint crc = Crc32C.Compute(batchBytes[BatchHeader.AttributesOffset..]);
            if (crc != header.Crc)
                throw new LogException(KafkaError.CorruptMessage, $"record batch at position {position}: CRC {header.Crc:x8} does not match the computed {crc:x8}");
            if (header.RecordCount <= 0 || header.LastOffsetDelta < 0 || (long)header.LastOffsetDelta + 1 != header.RecordCount)
                throw new LogException(KafkaError.InvalidRecord, $"record batch at position {position} has {header.RecordCount} records but last offset delta {header.LastOffsetDelta}");
            if (header.IsControl && origin != AppendOrigin.Replication)
                throw new LogException(KafkaError.InvalidRecord, "clients may not send control batches");
            if (header.IsTransactional && !header.HasProducerId)
                throw new LogException(KafkaError.InvalidRecord, $"transactional record batch at position {position} has no producer id");
            if (header.HasProducerId && header.BaseSequence < 0 && origin == AppendOrigin.Client)
                throw new LogException(KafkaError.InvalidRecord, $"idempotent batch of producer {header.ProducerId} has no base sequence");
            // A leader's batches were walked when it took them; a follower copies them as they are.
            long maxTimestamp = origin == AppendOrigin.Replication ? header.MaxTimestamp
                : ScanRecords(records.Slice(position, header.SizeInBytes), header, config, position);
            if (!header.IsLogAppendTime) header = header with { MaxTimestamp = maxTimestamp };
            headers.Add(header);
            position += header.SizeInBytes;
        }
    }

    /// <summary>Walks the batch's records (see the class comment); returns their largest timestamp.</summary>
    private static long ScanRecords(ReadOnlyMemory<byte> batchBytes, BatchHeader header, LogConfig config, int position)
    {
        bool compacted = config.CleanupPolicy.HasFlag(CleanupPolicy.Compact);
        var keyless = compacted ? new List<int>() : null;
        long maxTimestamp;
        try
        {
            var section = batchBytes[BatchHeader.Size..];
            if (header.Compression != CompressionType.None)
                section = Compression.Decompress(header.Compression, section);
            maxTimestamp = RecordScan.Scan(section, header.RecordCount, header.BaseTimestamp, keyless);
        }
        catch (KafkaProtocolException e)
        {
            throw new LogException(KafkaError.CorruptMessage, $"record batch at position {position} does not decode: {e.Message}");
        }
        if (keyless is { Count: > 0 })
        {
            const string why = "a compacted topic cannot accept a record without a key";
            var errors = keyless.Select(i => new RecordError(i, why)).ToList();
            throw new LogException(KafkaError.InvalidRecord,
                $"{errors.Count} record(s) of the batch at position {position} were refused ({why}): indexes {string.Join(", ", keyless.Take(10))}{(keyless.Count > 10 ? ", ..." : "")}",
                errors);
        }
        return maxTimestamp;
    }
}
