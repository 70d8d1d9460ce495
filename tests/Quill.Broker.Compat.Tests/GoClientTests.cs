using System.Buffers.Binary;
using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Broker.Compat.Tests;

/// <summary>The Go clients built once, and one broker, shared by the tests of <see cref="GoClientTests"/>.</summary>
public sealed class GoClientFixture : IAsyncLifetime
{
    public BrokerProcess Broker { get; private set; } = null!;
    public string Sarama { get; private set; } = null!;
    public string KafkaGo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (Sarama, KafkaGo) = await GoClients.BuildAsync();
        Broker = await BrokerProcess.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (Broker is not null) await Broker.DisposeAsync();
    }
}

/// <summary>
/// sarama 1.22.1 and kafka-go 0.2.1 (Debian's Go packages; tests/go) against a live `quill start`, asserting what
/// Apache Kafka 3.x gives them. What they send, by configuration (from their sources):
/// <list type="bullet">
/// <item>sarama Version default (V0_8_2_0): Produce v0 with magic 0 messages, Fetch v0, ListOffsets v0, Metadata v0.</item>
/// <item>sarama V0_10_2_0: Produce v2 with magic 1 messages (compressed: one wrapper message with relative inner
/// offsets), Fetch v3, ListOffsets v1, Metadata v1; its ConsumerGroup (V0_10_2_0+, any later Version alike):
/// FindCoordinator v0, JoinGroup v1, SyncGroup v0, Heartbeat v0, OffsetFetch v1, OffsetCommit v1, LeaveGroup v0.</item>
/// <item>sarama V1_0_0_0 and V2_1_0_0: Produce v3 with v2 record batches (MaxTimestamp left at -1), Fetch v4,
/// ListOffsets v1, Metadata v5. sarama 1.22.1 never sends Produce above v3, so its zstd is always refused by Kafka.</item>
/// <item>kafka-go 0.2.1: Produce v2 with magic 1 message sets (compressed: one wrapper message), Fetch v2 (so the
/// broker must down-convert to magic 1), ListOffsets v1, Metadata v1; its group Reader FindCoordinator v0, JoinGroup
/// v1, SyncGroup v0, Heartbeat v0, OffsetFetch v1, OffsetCommit v2, LeaveGroup v0.</item>
/// </list>
/// </summary>
public sealed class GoClientTests(GoClientFixture fixture) : IClassFixture<GoClientFixture>
{
    private const int UnsupportedCompressionType = 76;
    private static readonly TimeSpan TestBudget = TimeSpan.FromSeconds(55);
    private static readonly TimeSpan StepLimit = TimeSpan.FromSeconds(25);

    private readonly BrokerProcess _broker = fixture.Broker;
    private readonly string _sarama = fixture.Sarama;
    private readonly string _kafkaGo = fixture.KafkaGo;
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private string Bootstrap => _broker.BootstrapServers;

    /// <summary>What one step may take: at most <see cref="StepLimit"/> and what is left of the test's budget.</summary>
    private TimeSpan NextStep()
    {
        var left = TestBudget - _elapsed.Elapsed;
        if (left < TimeSpan.FromSeconds(5)) Assert.Fail($"the test used up its {TestBudget.TotalSeconds:0} s budget");
        return left < StepLimit ? left : StepLimit;
    }

    private Task<GoRun> SaramaAsync(string command, params string[] args) =>
        GoClients.RunAsync(_sarama, command, NextStep(), ["-bootstrap", Bootstrap, .. args]);

    private Task<GoRun> KafkaGoAsync(string command, params string[] args) =>
        GoClients.RunAsync(_kafkaGo, command, NextStep(), ["-bootstrap", Bootstrap, .. args]);

    /// <summary>The run succeeded; on failure the message has the client's output and the broker's log.</summary>
    private GoRun Ok(GoRun run)
    {
        Assert.True(run.Error is null && run.Process.Succeeded, $"{run.Error}\n{run}\n{BrokerLogTail()}");
        return run;
    }

    /// <summary>The broker's last lines, for failure messages.</summary>
    private string BrokerLogTail(int lines = 30) =>
        $"--- broker output (last {lines} lines) ---\n" + string.Join('\n', _broker.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));

    // A timestamp well inside retention (an hour ago, whole seconds) for records stamped by the test.
    private static long RecentTimestamp() => (DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 3600) * 1000;

    [Theory]
    [InlineData("default")]
    [InlineData("0.10.2.0")]
    [InlineData("1.0.0")]
    [InlineData("2.1.0")]
    public async Task Sarama_sync_producer_and_consumer_round_trip_keyed_records(string version)
    {
        string topic = Clients.NewTopic($"sarama-{version.Replace('.', '-')}");
        await Clients.CreateTopicAsync(Bootstrap, topic, 3);
        long start = RecentTimestamp();
        bool timestamps = version != "default"; // V0_8_2_0 writes magic 0 messages, which have no timestamp
        string[] stamp = timestamps ? ["-ts-start", $"{start}", "-ts-step", "1"] : [];
        var produced = Ok(await SaramaAsync("produce", ["-topic", topic, "-version", version, "-count", "60", "-keys", "6", .. stamp]))
            .Records("produced");

        var consumed = Ok(await SaramaAsync("consume", "-topic", topic, "-version", version, "-count", "60")).Records("consumed");
        AssertKeyedRecords(consumed, 60, 6);
        // Each record is where the producer was told it went, with its timestamp (or none).
        Assert.Equal(produced.Select(r => (r.Partition, r.Offset, r.Value)).Order(), consumed.Select(r => (r.Partition, r.Offset, r.Value)).Order());
        foreach (var r in consumed)
            Assert.Equal(timestamps ? start + IndexOf(r.Value) : -1, r.Timestamp);

        // A modern client (librdkafka, Fetch v11+) reads the same records.
        var modern = Clients.ConsumeFromStart(Bootstrap, topic, 3, 60);
        Assert.Equal(consumed.Select(r => (r.Partition, r.Offset, r.Key, r.Value)).Order(),
            modern.Select(r => (r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value)).Order());
    }

    [Fact]
    public async Task Sarama_fetch_v0_gets_records_down_converted_to_magic_0_without_timestamps()
    {
        // sarama's default Version (V0_8_2_0) fetches with Fetch v0, whose answer Kafka down-converts to magic 0
        // messages: the records come with their keys and values but without timestamps (a magic 0 message has none).
        // sarama would also decode v2 batches, so timestamps in its results mean the broker skipped the conversion.
        string topic = Clients.NewTopic("sarama-fetch-v0");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        var values = ProduceWithLibrdkafka(topic, 50, keys: 5);

        var consumed = Ok(await SaramaAsync("consume", "-topic", topic, "-version", "default", "-count", "50")).Records("consumed");
        Assert.Equal(values, consumed.Select(r => r.Value));
        Assert.All(consumed, r => Assert.Equal($"key-{IndexOf(r.Value) % 5}", r.Key));
        var stamped = consumed.Where(r => r.Timestamp != -1).ToList();
        Assert.True(stamped.Count == 0,
            $"Fetch v0 answers magic 0 messages, which have no timestamp; sarama saw {stamped.Count} of " +
            $"{consumed.Count} records with one (first: {stamped.FirstOrDefault()?.Timestamp})");
    }

    [Theory]
    [InlineData("gzip", "default", 1)]
    [InlineData("snappy", "default", 2)]
    [InlineData("gzip", "0.10.2.0", 1)]
    [InlineData("snappy", "0.10.2.0", 2)]
    [InlineData("lz4", "0.10.2.0", 3)]
    [InlineData("gzip", "2.1.0", 1)]
    [InlineData("snappy", "2.1.0", 2)]
    [InlineData("lz4", "2.1.0", 3)]
    public async Task Sarama_compressed_records_round_trip_and_keep_their_codec(string codec, string version, int codecId)
    {
        string topic = Clients.NewTopic($"sarama-{codec}-{version.Replace('.', '-')}");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        Ok(await SaramaAsync("produce", "-topic", topic, "-version", version, "-compression", codec, "-count", "200", "-keys", "4", "-pad", "100"));

        var consumed = Ok(await SaramaAsync("consume", "-topic", topic, "-version", version, "-count", "200")).Records("consumed");
        Assert.Equal(Enumerable.Range(0, 200), consumed.Select(r => IndexOf(r.Value)));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), consumed.Select(r => r.Offset));
        Assert.All(consumed, r => Assert.Equal($"key-{IndexOf(r.Value) % 4}", r.Key));

        var modern = Clients.ConsumeFromStart(Bootstrap, topic, 1, 200);
        Assert.Equal(consumed.Select(r => r.Value), modern.Select(r => r.Message.Value));
        // Kafka with compression.type=producer keeps the producer's codec (and re-compresses old message sets with it).
        Assert.Contains(codecId, await StoredCodecsAsync(topic, 0));
    }

    [Fact]
    public async Task Sarama_zstd_in_a_produce_request_below_v7_is_refused_with_UNSUPPORTED_COMPRESSION_TYPE()
    {
        // sarama 1.22.1 with Version V2_1_0_0 compresses with zstd but still sends Produce v3; Kafka 2.1+ takes zstd
        // only in Produce v7+ (KIP-110) and answers UNSUPPORTED_COMPRESSION_TYPE for the partition.
        string topic = Clients.NewTopic("sarama-zstd-v3");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        var run = await SaramaAsync("produce", "-topic", topic, "-version", "2.1.0", "-compression", "zstd", "-count", "20", "-pad", "50");
        Assert.True(run.KafkaError == UnsupportedCompressionType,
            $"expected UNSUPPORTED_COMPRESSION_TYPE ({UnsupportedCompressionType}), got {run.Error ?? "success"}\n{run}\n{BrokerLogTail()}");
        using var consumer = Clients.Consumer(Bootstrap);
        Assert.Equal(0, consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), Clients.Timeout).High.Value);
    }

    [Fact]
    public async Task Sarama_reads_zstd_batches_of_a_modern_producer_with_fetch_v4()
    {
        string topic = Clients.NewTopic("sarama-zstd-read");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        var values = ProduceWithLibrdkafka(topic, 200, c => { c.CompressionType = CompressionType.Zstd; c.LingerMs = 50; });
        Assert.Contains(4, await StoredCodecsAsync(topic, 0));

        var consumed = Ok(await SaramaAsync("consume", "-topic", topic, "-version", "2.1.0", "-count", "200")).Records("consumed");
        Assert.Equal(values, consumed.Select(r => r.Value));
    }

    [Fact]
    public async Task Sarama_fetch_below_v10_of_a_zstd_topic_gets_UNSUPPORTED_COMPRESSION_TYPE()
    {
        // Kafka answers a Fetch below v10 of a partition whose topic has compression.type=zstd with
        // UNSUPPORTED_COMPRESSION_TYPE instead of records the client cannot decompress.
        string topic = Clients.NewTopic("sarama-zstd-topic");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1, new Dictionary<string, string> { ["compression.type"] = "zstd" });
        ProduceWithLibrdkafka(topic, 20);

        var run = await SaramaAsync("consume", "-topic", topic, "-version", "2.1.0", "-count", "20");
        Assert.True(run.KafkaError == UnsupportedCompressionType,
            $"expected UNSUPPORTED_COMPRESSION_TYPE ({UnsupportedCompressionType}), got {run.Error ?? "the records"}\n{run}\n{BrokerLogTail()}");
    }

    [Theory]
    [InlineData("2.1.0", "none")]
    [InlineData("2.1.0", "gzip")]
    [InlineData("1.0.0", "snappy")]
    [InlineData("0.10.2.0", "none")]
    [InlineData("0.10.2.0", "gzip")]
    public async Task Sarama_records_are_found_by_timestamp(string version, string codec)
    {
        // sarama leaves a v2 batch's MaxTimestamp at -1 and, for magic 1, stamps a compressed wrapper with its first
        // record's time; Kafka validates the records and indexes their own timestamps, so ListOffsets by time finds
        // the first record at or after the time asked for.
        string topic = Clients.NewTopic($"sarama-time-{codec}");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        long start = RecentTimestamp();
        Ok(await SaramaAsync("produce", "-topic", topic, "-version", version, "-compression", codec, "-count", "100",
            "-ts-start", $"{start}", "-ts-step", "10"));

        var lookups = new Dictionary<long, long>
        {
            [start - 60_000] = 0, [start] = 0, [start + 1] = 1, [start + 425] = 43, [start + 990] = 99, [start + 991] = -1,
        };
        var run = Ok(await SaramaAsync("offsets", "-topic", topic, "-version", version, "-partition", "0",
            "-times", string.Join(',', lookups.Keys)));
        var offsets = run.Result.GetProperty("offsets");
        foreach (var (time, expected) in lookups)
            Assert.True(offsets.GetProperty($"{time}").GetInt64() == expected,
                $"GetOffset(t = start + {time - start} ms) = {offsets.GetProperty($"{time}").GetInt64()}, expected {expected}\n{run}\n{BrokerLogTail()}");

        var consumed = Ok(await SaramaAsync("consume", "-topic", topic, "-version", version, "-count", "100")).Records("consumed");
        Assert.Equal(Enumerable.Range(0, 100).Select(i => start + 10 * i), consumed.Select(r => r.Timestamp));
    }

    [Theory]
    [InlineData("0.10.2.0")]
    [InlineData("2.1.0")]
    public async Task Sarama_consumer_group_consumes_everything_once_and_commits(string version)
    {
        string topic = Clients.NewTopic($"sarama-group-{version.Replace('.', '-')}");
        await Clients.CreateTopicAsync(Bootstrap, topic, 3);
        var values = ProduceWithLibrdkafka(topic, 90, keys: 9);
        string group = "sarama-" + Guid.NewGuid().ToString("N")[..8];

        var run = Ok(await SaramaAsync("group", "-topic", topic, "-version", version, "-group", group, "-count", "90"));
        var consumed = run.Records("consumed");
        Assert.Equal(values.Order(), consumed.Select(r => r.Value).Order()); // each once
        Assert.Equal([0, 1, 2], run.Result.GetProperty("claimed").EnumerateArray().Select(p => p.GetInt32()));
        await AssertCommittedAtEndAsync(group, topic, 3);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    [InlineData("snappy")]
    [InlineData("lz4")]
    public async Task Kafka_go_writer_and_reader_round_trip_keyed_records(string codec)
    {
        string topic = Clients.NewTopic($"kafkago-{codec}");
        await Clients.CreateTopicAsync(Bootstrap, topic, 3);
        long start = RecentTimestamp();
        var written = Ok(await KafkaGoAsync("produce", "-topic", topic, "-compression", codec, "-count", "90", "-keys", "9",
            "-pad", "40", "-ts-start", $"{start}", "-ts-step", "1"));
        Assert.Equal(90, written.Result.GetProperty("written").GetInt32());

        var consumed = Ok(await KafkaGoAsync("consume", "-topic", topic, "-count", "90")).Records("consumed");
        AssertKeyedRecords(consumed, 90, 9);
        Assert.All(consumed, r => Assert.Equal(start + IndexOf(r.Value), r.Timestamp));

        var modern = Clients.ConsumeFromStart(Bootstrap, topic, 3, 90);
        Assert.Equal(consumed.Select(r => (r.Partition, r.Offset, r.Key, r.Value)).Order(),
            modern.Select(r => (r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value)).Order());
    }

    [Fact]
    public async Task Kafka_go_reader_in_a_group_consumes_everything_once_and_commits()
    {
        string topic = Clients.NewTopic("kafkago-group");
        await Clients.CreateTopicAsync(Bootstrap, topic, 3);
        var values = ProduceWithLibrdkafka(topic, 90, keys: 9);
        string group = "kafkago-" + Guid.NewGuid().ToString("N")[..8];

        var consumed = Ok(await KafkaGoAsync("group", "-topic", topic, "-group", group, "-count", "90")).Records("consumed");
        Assert.Equal(values.Order(), consumed.Select(r => r.Value).Order());
        await AssertCommittedAtEndAsync(group, topic, 3);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("snappy")]
    public async Task Kafka_go_reads_what_sarama_wrote_in_v2_batches(string codec)
    {
        string topic = Clients.NewTopic($"sarama-to-kafkago-{codec}");
        await Clients.CreateTopicAsync(Bootstrap, topic, 2);
        long start = RecentTimestamp();
        var produced = Ok(await SaramaAsync("produce", "-topic", topic, "-version", "2.1.0", "-compression", codec, "-count", "60",
            "-keys", "6", "-pad", "30", "-ts-start", $"{start}", "-ts-step", "1")).Records("produced");

        var consumed = Ok(await KafkaGoAsync("consume", "-topic", topic, "-count", "60")).Records("consumed");
        AssertKeyedRecords(consumed, 60, 6);
        Assert.Equal(produced.Select(r => (r.Partition, r.Offset, r.Key, r.Value, r.Timestamp)).Order(),
            consumed.Select(r => (r.Partition, r.Offset, r.Key, r.Value, r.Timestamp)).Order());
    }

    [Theory]
    [InlineData("2.1.0")]
    [InlineData("0.10.2.0")]
    public async Task Sarama_reads_what_kafka_go_wrote_in_magic_1_message_sets(string version)
    {
        string topic = Clients.NewTopic($"kafkago-to-sarama-{version.Replace('.', '-')}");
        await Clients.CreateTopicAsync(Bootstrap, topic, 2);
        long start = RecentTimestamp();
        Ok(await KafkaGoAsync("produce", "-topic", topic, "-compression", "gzip", "-count", "60", "-keys", "6", "-pad", "30",
            "-ts-start", $"{start}", "-ts-step", "1"));

        var consumed = Ok(await SaramaAsync("consume", "-topic", topic, "-version", version, "-count", "60")).Records("consumed");
        AssertKeyedRecords(consumed, 60, 6);
        Assert.All(consumed, r => Assert.Equal(start + IndexOf(r.Value), r.Timestamp));
    }

    /// <summary>The index i of a value "value-i" or "value-i-padding".</summary>
    private static int IndexOf(string value) => int.Parse(value.Split('-')[1]);

    /// <summary>
    /// <paramref name="count"/> records of values value-0.. with keys key-(i % keys): each value once, every key in
    /// one partition with its values in the order produced, each partition's offsets 0..n-1.
    /// </summary>
    private static void AssertKeyedRecords(IReadOnlyList<GoRecord> records, int count, int keys)
    {
        Assert.Equal(Enumerable.Range(0, count), records.Select(r => IndexOf(r.Value)).Order());
        Assert.All(records, r => Assert.Equal($"key-{IndexOf(r.Value) % keys}", r.Key));
        foreach (var byKey in records.GroupBy(r => r.Key))
        {
            Assert.Single(byKey.Select(r => r.Partition).Distinct());
            var inOffsetOrder = byKey.OrderBy(r => r.Offset).Select(r => IndexOf(r.Value)).ToList();
            Assert.Equal(inOffsetOrder.Order(), inOffsetOrder);
        }
        foreach (var byPartition in records.GroupBy(r => r.Partition))
            Assert.Equal(Enumerable.Range(0, byPartition.Count()).Select(i => (long)i), byPartition.Select(r => r.Offset).Order());
    }

    /// <summary>Produces value-0.. (keys key-(i % keys) when keys > 0) with librdkafka and returns the values.</summary>
    private List<string> ProduceWithLibrdkafka(string topic, int count, Action<ProducerConfig>? configure = null, int keys = 0)
    {
        var values = Enumerable.Range(0, count).Select(i => $"value-{i}-" + new string((char)('a' + i % 26), 100)).ToList();
        using var producer = Clients.Producer(Bootstrap, configure);
        for (int i = 0; i < count; i++)
            producer.Produce(topic, new Message<string, string> { Key = keys > 0 ? $"key-{i % keys}" : null!, Value = values[i] });
        Assert.Equal(0, producer.Flush(Clients.Timeout));
        return values;
    }

    /// <summary>The group's committed offset of every partition is the partition's end.</summary>
    private async Task AssertCommittedAtEndAsync(string group, string topic, int partitions)
    {
        using var admin = Clients.Admin(Bootstrap);
        using var consumer = Clients.Consumer(Bootstrap);
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        var committed = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, tps)]);
        var byPartition = Assert.Single(committed).Partitions.ToDictionary(p => p.Partition.Value, p => p.Offset.Value);
        foreach (var tp in tps)
            Assert.Equal(consumer.QueryWatermarkOffsets(tp, Clients.Timeout).High.Value, byPartition[tp.Partition.Value]);
    }

    /// <summary>The compression codec (attributes &amp; 7) of every batch or legacy message stored in the partition's
    /// first segment, whichever message format the broker keeps.</summary>
    private async Task<List<int>> StoredCodecsAsync(string topic, int partition)
    {
        byte[] log = await File.ReadAllBytesAsync(Path.Combine(_broker.LogDir, $"{topic}-{partition}", "00000000000000000000.log"));
        var codecs = new List<int>();
        for (int position = 0; position + 22 <= log.Length; position += 12 + BinaryPrimitives.ReadInt32BigEndian(log.AsSpan(position + 8)))
        {
            byte magic = log[position + 16];
            codecs.Add(magic >= 2 ? BinaryPrimitives.ReadInt16BigEndian(log.AsSpan(position + 21)) & 0x07 : log[position + 17] & 0x07);
        }
        return codecs;
    }
}
