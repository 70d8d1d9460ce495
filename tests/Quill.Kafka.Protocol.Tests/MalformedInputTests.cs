using System.Diagnostics;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Kafka.Protocol.Tests;

/// <summary>
/// Mutated valid encodings (flipped bytes, truncation, huge and negative lengths) must decode or throw
/// <see cref="KafkaProtocolException"/>: never another exception, never a hang or a giant allocation.
/// </summary>
public class MalformedInputTests
{
    [Fact]
    public void Mutated_requests_and_responses_never_crash_the_decoder()
    {
        var random = new Random(20240601);
        var watch = Stopwatch.StartNew();
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        int decoded = 0, rejected = 0;
        foreach (var api in KafkaApis.All)
        {
            for (short version = api.MinVersion; version <= api.MaxVersion; version++)
            {
                foreach (var schema in new[] { api.Request, api.Response })
                {
                    var valid = Encode(schema, version, new RandomValues(version * 7 + (int)api.Key).Fill(schema, version));
                    for (int i = 0; i < 60; i++)
                    {
                        var mutated = Mutate(valid, random);
                        try
                        {
                            MessageCodec.Decode(schema, version, mutated);
                            decoded++;
                        }
                        catch (KafkaProtocolException e)
                        {
                            Assert.Contains($"{schema.Name} v{version}", e.Message);
                            rejected++;
                        }
                    }
                }
            }
        }
        Assert.True(rejected > 1000, $"only {rejected} mutations were rejected");
        Assert.True(decoded > 100, $"only {decoded} mutations decoded");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Assert.True(allocated < 2_000_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Mutated_frames_never_crash_the_frame_decoder()
    {
        var random = new Random(7);
        var body = MetadataApi.Request.New();
        body.AddElement("Topics").SetString("Name", "orders");
        using var writer = new KafkaWriter();
        KafkaFrames.WriteRequest(writer, new RequestHeader(3, 12, 1, "client"), body);
        var frame = writer.WrittenSpan[4..].ToArray();
        int decoded = 0, rejected = 0;
        for (int i = 0; i < 5000; i++)
        {
            try
            {
                KafkaFrames.DecodeRequest(Mutate(frame, random));
                decoded++;
            }
            catch (KafkaProtocolException)
            {
                rejected++;
            }
        }
        // Both outcomes, many times: the mutations reach past the first check, and the decoder rejects rather than crashes.
        Assert.True(rejected > 500, $"only {rejected} mutations were rejected");
        Assert.True(decoded > 500, $"only {decoded} mutations decoded");
    }

    [Fact]
    public void Mutated_record_batches_never_crash_the_record_reader()
    {
        var random = new Random(11);
        foreach (CompressionType type in Enum.GetValues<CompressionType>())
        {
            var valid = new RecordBatchBuilder(type)
                .Add(1, new byte[] { 1, 2 }, new byte[100], new RecordHeader("h", new byte[] { 3 }))
                .Add(2, null, new byte[] { 4 })
                .Build();
            int read = 0, rejected = 0;
            for (int i = 0; i < 1500; i++)
            {
                var mutated = Mutate(valid, random);
                try
                {
                    foreach (var batch in RecordBatch.ReadAll(mutated))
                    {
                        _ = batch.IsCrcValid;
                        batch.ReadRecords(maxDecompressedSize: 1 << 20);
                    }
                    read++;
                }
                catch (KafkaProtocolException)
                {
                    rejected++;
                }
            }
            // Both outcomes for every codec: the mutations reach the records, and bad ones are rejected, never a crash.
            Assert.True(rejected > 100, $"{type}: only {rejected} mutations were rejected");
            Assert.True(read > 100, $"{type}: only {read} mutations were read");
        }
    }

    [Fact]
    public void Errors_say_where()
    {
        var body = ProduceApi.Request.New();
        body.AddElement("TopicData").SetString("Name", "t").AddElement("PartitionData").SetBytes("Records", new byte[50]);
        var bytes = Encode(ProduceApi.Request, 9, body);
        var error = Assert.Throws<KafkaProtocolException>(() => MessageCodec.Decode(ProduceApi.Request, 9, bytes.AsMemory(0, bytes.Length - 10)));
        Assert.StartsWith("ProduceRequest v9, field TopicData[0].PartitionData[0].Records: at offset", error.Message);
    }

    [Fact]
    public void Huge_array_counts_are_rejected_before_allocating()
    {
        // Metadata v0 request claiming int.MaxValue topics in 4 bytes.
        byte[] bytes = [0x7f, 0xff, 0xff, 0xff];
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<KafkaProtocolException>(() => MessageCodec.Decode(MetadataApi.Request, 0, bytes));
        Assert.Contains("Topics", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 100_000);
    }

    private static byte[] Encode(MessageSchema schema, short version, StructValue value)
    {
        using var writer = new KafkaWriter();
        MessageCodec.Encode(schema, version, value, writer);
        return writer.ToArray();
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = (byte[])valid.Clone();
        switch (random.Next(6))
        {
            case 0: // truncate
                return bytes.AsSpan(0, random.Next(bytes.Length)).ToArray();
            case 1: // flip a few bytes
                for (int i = random.Next(1, 4); i > 0 && bytes.Length > 0; i--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 2: // a huge int32 or int16 length somewhere
                if (bytes.Length >= 4) { int at = random.Next(bytes.Length - 3); bytes[at] = 0x7f; bytes[at + 1] = 0xff; bytes[at + 2] = 0xff; bytes[at + 3] = 0xf0; }
                return bytes;
            case 3: // a negative length somewhere
                if (bytes.Length >= 2) { int at = random.Next(bytes.Length - 1); bytes[at] = 0xff; bytes[at + 1] = (byte)random.Next(0xf0, 0xff); }
                return bytes;
            case 4: // a long varint run
                if (bytes.Length >= 6) { int at = random.Next(bytes.Length - 5); for (int i = 0; i < 6; i++) bytes[at + i] = 0xff; }
                return bytes;
            default: // append garbage
                return [.. bytes, .. Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(256))];
        }
    }
}
