using Quill.Kafka.Protocol.Primitives;

namespace Quill.Kafka.Protocol.Records;

/// <summary>
/// Walks the (uncompressed) records of a magic-2 batch without copying or allocating, checking each one's framing
/// as a reader will need it: the length prefix, the varints, key and value lengths, the header count and header
/// keys, that each record ends where its length says and that exactly <c>count</c> records fill the section. A
/// broker runs this before it stores a batch, so nothing it acknowledges is unreadable later.
/// </summary>
public static class RecordScan
{
    /// <summary>
    /// Checks every record and returns the largest record timestamp (baseTimestamp plus each delta). Throws
    /// <see cref="KafkaProtocolException"/> naming the first malformed record. The indexes of records without a key
    /// are added to <paramref name="keyless"/> when it is given.
    /// </summary>
    public static long Scan(ReadOnlyMemory<byte> records, int count, long baseTimestamp, List<int>? keyless = null)
    {
        var reader = new KafkaReader(records);
        long maxTimestamp = long.MinValue;
        for (int i = 0; i < count; i++)
        {
            if (reader.AtEnd)
                throw new KafkaProtocolException($"the batch says {count} records but its records end after {i}");
            try
            {
                long timestamp = ScanRecord(ref reader, baseTimestamp, out bool hasKey);
                if (timestamp > maxTimestamp) maxTimestamp = timestamp;
                if (!hasKey) keyless?.Add(i);
            }
            catch (KafkaProtocolException e)
            {
                throw e.Within($"record[{i}]");
            }
        }
        if (!reader.AtEnd)
            throw new KafkaProtocolException($"{reader.Remaining} bytes follow the batch's {count} records");
        return count == 0 ? baseTimestamp : maxTimestamp;
    }

    private static long ScanRecord(ref KafkaReader reader, long baseTimestamp, out bool hasKey)
    {
        int length = reader.ReadVarint();
        if (length <= 0 || length > reader.Remaining)
            throw KafkaProtocolException.At(reader.Position, $"record length {length} does not fit the {reader.Remaining} bytes left");
        int end = reader.Position + length;
        reader.ReadInt8(); // attributes: unused in magic 2
        long timestampDelta = reader.ReadVarlong();
        reader.ReadVarint(); // offset delta: the broker assigns offsets by the batch's base offset
        int keyLength = SkipVarBytes(ref reader, end, "key");
        SkipVarBytes(ref reader, end, "value");
        int headerCount = reader.ReadVarint();
        if (headerCount < 0 || headerCount > (end - reader.Position) / 2)
            throw KafkaProtocolException.At(reader.Position, $"header count {headerCount} cannot fit in the record's {end - reader.Position} bytes left");
        for (int h = 0; h < headerCount; h++)
        {
            if (SkipVarBytes(ref reader, end, "header key") < 0)
                throw KafkaProtocolException.At(reader.Position, "a header key may not be null");
            SkipVarBytes(ref reader, end, "header value");
        }
        if (reader.Position != end)
            throw KafkaProtocolException.At(reader.Position, $"record ends at {reader.Position}, its length says {end}");
        hasKey = keyLength >= 0;
        return baseTimestamp + timestampDelta;
    }

    /// <summary>Skips a varint-length byte field (-1 for null) that must end by <paramref name="end"/>; returns its length.</summary>
    private static int SkipVarBytes(ref KafkaReader reader, int end, string what)
    {
        int length = reader.ReadVarint();
        if (length == -1) return -1;
        if (length < -1 || length > end - reader.Position)
            throw KafkaProtocolException.At(reader.Position, $"{what} length {length} does not fit the record's {end - reader.Position} bytes left");
        reader.Skip(length);
        return length;
    }
}
