using System.Buffers.Binary;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;

namespace Quill.Broker.Log;

/// <summary>
/// The producer state snapshot file. Like Kafka's it starts with a version (int16) and a CRC-32C (uint32) of
/// the rest; unlike Kafka's (which keeps one batch per producer) it keeps all five recent batches, so duplicate
/// detection survives a restart. Body: count int32, then per producer: id int64, epoch int16, lastTimestamp
/// int64, (version 2:) coordinatorEpoch int32 and currentTxnFirstOffset int64 (-1: no transaction ongoing),
/// batch count int32, and per batch firstSeq int32, lastSeq int32, firstOffset int64, lastOffset int64,
/// timestamp int64. Version 1 files (before transactions) are still read. Written to a temporary file, fsynced and renamed so a crash leaves the old or the new one.
/// </summary>
public static class ProducerStateSnapshot
{
    private const short Version = 2, VersionWithoutTransactions = 1;

    public static void Write(string path, IEnumerable<ProducerStateEntry> entries)
    {
        using var body = new KafkaWriter(1024);
        var list = entries.ToList();
        body.WriteInt32(list.Count);
        foreach (var e in list)
        {
            body.WriteInt64(e.ProducerId);
            body.WriteInt16(e.Epoch);
            body.WriteInt64(e.LastTimestamp);
            body.WriteInt32(e.CoordinatorEpoch);
            body.WriteInt64(e.CurrentTxnFirstOffset);
            body.WriteInt32(e.Batches.Count);
            foreach (var b in e.Batches)
            {
                body.WriteInt32(b.FirstSeq);
                body.WriteInt32(b.LastSeq);
                body.WriteInt64(b.FirstOffset);
                body.WriteInt64(b.LastOffset);
                body.WriteInt64(b.Timestamp);
            }
        }
        var bytes = new byte[6 + body.Length];
        BinaryPrimitives.WriteInt16BigEndian(bytes, Version);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), Crc32C.Compute(body.WrittenSpan));
        body.WrittenSpan.CopyTo(bytes.AsSpan(6));
        AtomicFile.Write(path, bytes);
    }

    /// <summary>The entries, or null if the file is unreadable, of another version, or fails its CRC.</summary>
    public static List<ProducerStateEntry>? TryRead(string path)
    {
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length < 10) return null;
            short version = BinaryPrimitives.ReadInt16BigEndian(bytes);
            if (version is not (Version or VersionWithoutTransactions)) return null;
            if (BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(2)) != Crc32C.Compute(bytes.AsSpan(6))) return null;
            var reader = new KafkaReader(bytes.AsMemory(6));
            int count = reader.ReadInt32();
            var entries = new List<ProducerStateEntry>(Math.Min(count, 1 << 16));
            for (int i = 0; i < count; i++)
            {
                long pid = reader.ReadInt64();
                short epoch = reader.ReadInt16();
                long lastTimestamp = reader.ReadInt64();
                int coordinatorEpoch = version >= Version ? reader.ReadInt32() : -1;
                long txnFirstOffset = version >= Version ? reader.ReadInt64() : -1;
                int n = reader.ReadInt32();
                var batches = new List<ProducerBatch>(Math.Min(n, ProducerStateEntry.MaxBatches));
                for (int j = 0; j < n; j++)
                    batches.Add(new ProducerBatch(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64()));
                var entry = new ProducerStateEntry(pid, epoch);
                entry.Restore(lastTimestamp, coordinatorEpoch, txnFirstOffset, batches);
                entries.Add(entry);
            }
            return entries;
        }
        catch (Exception e) when (e is IOException or Quill.Kafka.Protocol.KafkaProtocolException)
        {
            return null;
        }
    }
}

/// <summary>Replaces a small file atomically and durably: write a temporary file, fsync it, rename it over the target, fsync the directory.</summary>
public static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        string tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        DirectorySync.Flush(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }
}
