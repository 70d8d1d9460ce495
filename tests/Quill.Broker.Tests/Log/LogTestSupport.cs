using System.Text;
using Quill.Broker.Log;
using Quill.Kafka.Protocol.Records;
using Record = Quill.Kafka.Protocol.Records.Record;

namespace Quill.Broker.Tests.Log;

/// <summary>A temporary directory deleted at the end of the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "quill-log-" + Guid.NewGuid().ToString("N"));
    public string Partition(string topic = "t", int partition = 0) => System.IO.Path.Combine(Path, LogFileNames.PartitionDirName(topic, partition));
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

public static class Batches
{
    public static byte[] Values(params string[] values) => Make(CompressionType.None, 1000, values);

    /// <summary>A batch of records "v..." with keys "k..." (or the given key/value pairs), timestamps from <paramref name="timestamp"/>.</summary>
    public static byte[] Make(CompressionType compression, long timestamp, params string[] values)
    {
        var builder = new RecordBatchBuilder(compression);
        for (int i = 0; i < values.Length; i++)
            builder.Add(timestamp + i, Encoding.UTF8.GetBytes("k" + i), Encoding.UTF8.GetBytes(values[i]));
        return builder.Build();
    }

    public static byte[] Keyed(long timestamp, params (string Key, string? Value)[] records) => Keyed(CompressionType.None, timestamp, records);

    public static byte[] Keyed(CompressionType compression, long timestamp, params (string Key, string? Value)[] records)
    {
        var builder = new RecordBatchBuilder(compression);
        foreach (var (key, value) in records)
            builder.Add(timestamp, Encoding.UTF8.GetBytes(key), value is null ? (ReadOnlyMemory<byte>?)null : Encoding.UTF8.GetBytes(value));
        return builder.Build();
    }

    public static byte[] Idempotent(long producerId, short epoch, int baseSequence, int count, long timestamp = 1000)
    {
        var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = baseSequence };
        for (int i = 0; i < count; i++) builder.Add(timestamp, null, Encoding.UTF8.GetBytes($"p{producerId}-e{epoch}-s{baseSequence + i}"));
        return builder.Build();
    }

    public static byte[] Sized(int valueBytes, long timestamp = 1000)
    {
        var builder = new RecordBatchBuilder();
        builder.Add(timestamp, null, new byte[valueBytes]);
        return builder.Build();
    }

    /// <summary>All records of all batches in <paramref name="bytes"/>, checking each batch's CRC on the way.</summary>
    public static List<Record> Records(byte[] bytes)
    {
        var result = new List<Record>();
        foreach (var batch in RecordBatch.ReadAll(bytes))
        {
            Assert.True(batch.IsCrcValid, $"batch at offset {batch.BaseOffset} has a bad CRC");
            result.AddRange(batch.ReadRecords());
        }
        return result;
    }

    public static string Text(ReadOnlyMemory<byte>? bytes) => bytes is { } b ? Encoding.UTF8.GetString(b.Span) : "<null>";

    /// <summary>Reads the whole log from <paramref name="from"/> to its end, fetch by fetch.</summary>
    public static List<Record> ReadAll(PartitionLog log, long from = -1, int maxBytes = 1 << 20)
    {
        long offset = from < 0 ? log.LogStartOffset : from;
        var records = new List<Record>();
        while (offset < log.LogEndOffset)
        {
            var read = log.Read(offset, maxBytes);
            Assert.False(read.Records.IsEmpty, $"no data at offset {offset} below the end {log.LogEndOffset}");
            foreach (var r in Records(read.Records.ToArray()))
                if (r.Offset >= offset) records.Add(r);
            offset = RecordBatch.ReadAll(read.Records.ToArray())[^1].LastOffset + 1;
        }
        return records;
    }
}
