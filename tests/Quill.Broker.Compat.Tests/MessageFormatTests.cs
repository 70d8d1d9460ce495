using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using Confluent.Kafka;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol.Schema;
using Quill.Testing;

using static Quill.Broker.Compat.Tests.RawRequests;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// The message formats before record batches (magic 0 and 1): produced by old clients and converted up into batches,
/// and converted down for Fetch below v4, as Kafka 3.x does. librdkafka speaks magic 0 (Produce v1, Fetch v1) when
/// told the broker is 0.9; magic 1 is spoken here on raw frames built from the format description.
/// </summary>
public sealed class MessageFormatTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    public async Task Kcat_speaking_kafka_0_9_produces_and_consumes_magic_0_and_modern_clients_read_the_same_records(string codec)
    {
        if (!File.Exists("/usr/bin/kcat")) Assert.Fail("kcat is not installed: apt-get install kcat");
        string topic = Clients.NewTopic("magic0-" + codec);
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        string[] old = ["-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"];
        var lines = Enumerable.Range(0, 50).Select(i => $"key-{i}:value-{i}").ToList();
        var produce = await ToolRunner.RunAsync("kcat",
            ["-b", _broker.BootstrapServers, "-P", "-t", topic, "-K:", "-z", codec, "-X", "topic.request.required.acks=-1", "-d", "protocol", .. old],
            standardInput: string.Join('\n', lines) + "\n", timeout: TimeSpan.FromSeconds(60));
        Assert.True(produce.Succeeded, produce.ToString());
        Assert.Contains("Sent ProduceRequest (v1", produce.StdErr); // the old format really went over the wire

        var consume = await ToolRunner.RunAsync("kcat",
            ["-b", _broker.BootstrapServers, "-C", "-t", topic, "-e", "-q", "-f", "%o %k:%s\n", "-d", "protocol", .. old],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(consume.Succeeded, consume.ToString());
        Assert.Contains("Sent FetchRequest (v1", consume.StdErr);
        Assert.Equal(lines.Select((l, i) => $"{i} {l}"), consume.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // A modern client reads the converted batches: same keys and values, no timestamps (magic 0 has none).
        var modern = Clients.ConsumeFromStart(_broker.BootstrapServers, topic, 1, lines.Count);
        Assert.Equal(lines, modern.Select(r => $"{r.Message.Key}:{r.Message.Value}"));
        Assert.All(modern, r => Assert.Equal(-1, r.Message.Timestamp.UnixTimestampMs));
    }

    [Fact]
    public async Task Records_produced_by_a_modern_client_are_down_converted_for_a_kafka_0_9_consumer()
    {
        string topic = Clients.NewTopic("downconvert");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using (var producer = Clients.Producer(_broker.BootstrapServers, c => c.CompressionType = Confluent.Kafka.CompressionType.Zstd))
        {
            for (int i = 0; i < 20; i++)
                producer.Produce(topic, new Message<string, string>
                {
                    Key = $"k{i}",
                    Value = $"v{i}",
                    Headers = [new Header("h", [1])], // no place for it in magic 0: dropped
                });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }
        var consume = await ToolRunner.RunAsync("kcat",
            ["-b", _broker.BootstrapServers, "-C", "-t", topic, "-e", "-q", "-o", "5", "-f", "%o %k=%s\n",
             "-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"],
            timeout: TimeSpan.FromSeconds(60));
        Assert.True(consume.Succeeded, consume.ToString());
        Assert.Equal(Enumerable.Range(5, 15).Select(i => $"{i} k{i}=v{i}"), consume.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_magic_1_gzip_message_set_is_stored_as_a_batch_and_fetched_as_magic_1_v0_and_v2()
    {
        string topic = Clients.NewTopic("magic1");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var messages = Enumerable.Range(0, 5).Select(i => new OldMessage($"k{i}", $"v{i}", 1_700_000_000_000 + i)).ToList();
        var set = OldFormat.Compressed(1, messages);
        var produced = await ProduceAsync(connection, topic, 2, set);
        Assert.Equal((short)0, produced.GetInt16("ErrorCode"));
        Assert.Equal(0, produced.GetInt64("BaseOffset"));

        // Stored as one magic-2 batch with the keys, values and timestamps produced.
        var fetched = await FetchAsync(connection, topic, 11, 0);
        var batch = Assert.Single(RecordBatch.ReadAll(fetched.GetBytes("Records")!.Value));
        Assert.Equal(Quill.Kafka.Protocol.Records.CompressionType.Gzip, batch.Compression);
        Assert.Equal(messages.Select((m, i) => (i, m.Key, m.Value, m.Timestamp)),
            batch.ReadRecords().Select(r => ((int)r.Offset, Text(r.Key), Text(r.Value), r.Timestamp)));

        foreach (var (version, magic) in new[] { ((short)2, (byte)1), ((short)3, (byte)1), ((short)0, (byte)0), ((short)1, (byte)0) })
        {
            var old = await FetchAsync(connection, topic, version, 2);
            Assert.Equal((short)0, old.GetInt16("ErrorCode"));
            var read = OldFormat.Parse(old.GetBytes("Records")!.Value.ToArray());
            Assert.All(read, m => Assert.Equal(magic, m.Magic));
            Assert.Equal(messages.Skip(2).Select((m, i) => (2L + i, m.Key, m.Value, magic == 1 ? m.Timestamp : -1)),
                read.Select(m => (m.Offset, m.Key, m.Value, m.Timestamp)));
        }
    }

    [Fact]
    public async Task Old_formats_are_refused_where_kafka_refuses_them()
    {
        string topic = Clients.NewTopic("magic-refusals");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var messages = new List<OldMessage> { new("k", "v", 1_700_000_000_000) };

        // Produce v3+ carries record batches only.
        Assert.Equal((short)KafkaError.InvalidRecord, (await ProduceAsync(connection, topic, 3, OldFormat.Plain(1, messages))).GetInt16("ErrorCode"));
        // A message whose CRC does not match.
        var corrupt = OldFormat.Plain(1, messages);
        corrupt[^1] ^= 0x55;
        Assert.Equal((short)KafkaError.CorruptMessage, (await ProduceAsync(connection, topic, 2, corrupt)).GetInt16("ErrorCode"));
        // A truncated message set.
        var whole = OldFormat.Plain(0, messages);
        Assert.Equal((short)KafkaError.CorruptMessage, (await ProduceAsync(connection, topic, 1, whole[..^3])).GetInt16("ErrorCode"));
        Assert.Equal(0, (await FetchAsync(connection, topic, 11, 0)).GetInt64("HighWatermark"));

        // And what is valid still goes in.
        Assert.Equal((short)0, (await ProduceAsync(connection, topic, 0, whole)).GetInt16("ErrorCode"));
        Assert.Equal(1, (await FetchAsync(connection, topic, 11, 0)).GetInt64("HighWatermark"));
    }

    [Fact]
    public async Task With_down_conversion_disabled_an_old_fetch_gets_UNSUPPORTED_VERSION_and_a_new_one_its_records()
    {
        string topic = Clients.NewTopic("no-downconvert");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1, new() { ["message.downconversion.enable"] = "false" });
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        Assert.Equal((short)0, (await ProduceAsync(connection, topic, 2, OldFormat.Plain(1, [new("k", "v", 1)]))).GetInt16("ErrorCode"));
        Assert.Equal((short)KafkaError.UnsupportedVersion, (await FetchAsync(connection, topic, 3, 0)).GetInt16("ErrorCode"));
        var modern = await FetchAsync(connection, topic, 11, 0);
        Assert.Equal((short)0, modern.GetInt16("ErrorCode"));
        Assert.Single(RecordBatch.ReadAll(modern.GetBytes("Records")!.Value));
    }

    private static string? Text(ReadOnlyMemory<byte>? bytes) => bytes is { } b ? System.Text.Encoding.UTF8.GetString(b.Span) : null;
}

public sealed record OldMessage(string? Key, string? Value, long Timestamp, long Offset = 0, byte Magic = 1);

/// <summary>
/// Magic 0/1 message sets written and read straight from the format description (offset, size, CRC-32 of the rest,
/// magic, attributes, [timestamp,] key, value), independently of the broker's own converter.
/// </summary>
public static class OldFormat
{
    public static byte[] Plain(byte magic, IEnumerable<OldMessage> messages)
    {
        using var output = new MemoryStream();
        long offset = 0;
        foreach (var m in messages) Write(output, offset++, magic, 0, m.Timestamp, Bytes(m.Key), Bytes(m.Value));
        return output.ToArray();
    }

    /// <summary>A gzip wrapper message around the messages (inner offsets relative, as magic 1 producers write them).</summary>
    public static byte[] Compressed(byte magic, IReadOnlyList<OldMessage> messages)
    {
        var inner = Plain(magic, messages);
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(inner);
        using var output = new MemoryStream();
        Write(output, messages.Count - 1, magic, 1, messages[^1].Timestamp, null, compressed.ToArray());
        return output.ToArray();
    }

    public static List<OldMessage> Parse(byte[] set)
    {
        var result = new List<OldMessage>();
        int p = 0;
        while (p + 12 <= set.Length)
        {
            long offset = BinaryPrimitives.ReadInt64BigEndian(set.AsSpan(p));
            int size = BinaryPrimitives.ReadInt32BigEndian(set.AsSpan(p + 8));
            if (p + 12 + size > set.Length) break; // a partial message at the end, as old fetchers allow
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(set.AsSpan(p + 12));
            Assert.Equal(crc, Crc32.HashToUInt32(set.AsSpan(p + 16, size - 4)));
            byte magic = set[p + 16];
            Assert.Equal(0, set[p + 17] & 0x07); // down-converted messages come uncompressed
            int q = p + 18;
            long timestamp = -1;
            if (magic == 1) { timestamp = BinaryPrimitives.ReadInt64BigEndian(set.AsSpan(q)); q += 8; }
            string? key = ReadBytes(set, ref q), value = ReadBytes(set, ref q);
            Assert.Equal(p + 12 + size, q);
            result.Add(new OldMessage(key, value, timestamp, offset, magic));
            p = q;
        }
        return result;
    }

    private static string? ReadBytes(byte[] set, ref int q)
    {
        int length = BinaryPrimitives.ReadInt32BigEndian(set.AsSpan(q));
        q += 4;
        if (length < 0) return null;
        string text = System.Text.Encoding.UTF8.GetString(set, q, length);
        q += length;
        return text;
    }

    private static byte[]? Bytes(string? text) => text is null ? null : System.Text.Encoding.UTF8.GetBytes(text);

    private static void Write(Stream output, long offset, byte magic, byte attributes, long timestamp, byte[]? key, byte[]? value)
    {
        using var body = new MemoryStream();
        body.WriteByte(magic);
        body.WriteByte(attributes);
        Span<byte> eight = stackalloc byte[8];
        if (magic == 1) { BinaryPrimitives.WriteInt64BigEndian(eight, timestamp); body.Write(eight); }
        foreach (var field in new[] { key, value })
        {
            BinaryPrimitives.WriteInt32BigEndian(eight, field?.Length ?? -1);
            body.Write(eight[..4]);
            if (field is not null) body.Write(field);
        }
        var bytes = body.ToArray();
        BinaryPrimitives.WriteInt64BigEndian(eight, offset);
        output.Write(eight);
        BinaryPrimitives.WriteInt32BigEndian(eight, bytes.Length + 4);
        output.Write(eight[..4]);
        BinaryPrimitives.WriteUInt32BigEndian(eight, Crc32.HashToUInt32(bytes));
        output.Write(eight[..4]);
        output.Write(bytes);
    }
}
