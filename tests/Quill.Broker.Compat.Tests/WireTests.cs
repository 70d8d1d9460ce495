using System.Buffers.Binary;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Records;
using Quill.Kafka.Protocol.Schema;

namespace Quill.Broker.Compat.Tests;

/// <summary>Wire-level behaviour a client library hides: version negotiation, refusals, and bad input of every kind.</summary>
public sealed class WireTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;

    [Fact]
    public async Task ApiVersions_advertises_every_described_version_of_every_api()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var response = await connection.RequestAsync(KafkaApis.ApiVersions, 3, KafkaApis.ApiVersions.Request.New()
            .SetString("ClientSoftwareName", "raw").SetString("ClientSoftwareVersion", "1"));
        Assert.Equal(0, response.GetInt16("ErrorCode"));
        var advertised = response.GetArray("ApiKeys")!.ToDictionary(k => k.GetInt16("ApiKey"), k => (k.GetInt16("MinVersion"), k.GetInt16("MaxVersion")));
        Assert.Equal(KafkaApis.All.Count, advertised.Count);
        foreach (var api in KafkaApis.All) Assert.Equal((api.MinVersion, api.MaxVersion), advertised[(short)api.Key]);
        Assert.Equal((short)0, advertised[(short)ApiKey.Produce].Item1); // librdkafka < 2.11.1 stops compressing otherwise
    }

    [Fact]
    public async Task An_unsupported_ApiVersions_version_gets_UNSUPPORTED_VERSION_in_the_v0_format()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        // ApiVersions v99 with a flexible (v2) header, as a newer client would send it.
        var request = new byte[] { 0, 0, 0, 0, 0, 18, 0, 99, 0, 0, 0, 7, 0, 3, (byte)'n', (byte)'e', (byte)'w', 0, 0 };
        BinaryPrimitives.WriteInt32BigEndian(request, request.Length - 4);
        await connection.SendRawAsync(request);
        var frame = await connection.ReadFrameAsync();
        Assert.NotNull(frame);
        var (correlationId, body) = KafkaFrames.DecodeResponse(frame, KafkaApis.ApiVersions, 0);
        Assert.Equal(7, correlationId);
        Assert.Equal((short)KafkaError.UnsupportedVersion, body.GetInt16("ErrorCode"));
        Assert.Contains(body.GetArray("ApiKeys")!, k => k.GetInt16("ApiKey") == (short)ApiKey.Fetch && k.GetInt16("MaxVersion") == 17);
    }

    [Theory]
    [InlineData("oversized frame")]
    [InlineData("negative size")]
    [InlineData("unknown api")]
    [InlineData("unsupported version")]
    [InlineData("truncated body")]
    public async Task Bad_frames_close_the_connection_and_the_broker_keeps_serving(string kind)
    {
        using (var bad = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort))
        {
            byte[] bytes = kind switch
            {
                "oversized frame" => [0x10, 0, 0, 0, 0, 3, 0, 9],     // 256 MiB > socket.request.max.bytes
                "negative size" => [0xFF, 0xFF, 0xFF, 0xF0],
                "unknown api" => Frame([0x03, 0xE7, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF]),
                "unsupported version" => Frame([0, 3, 0, 99, 0, 0, 0, 1, 0xFF, 0xFF]),
                _ => Frame([0, 3, 0, 12, 0, 0, 0, 1, 0xFF, 0xFF, 0, 0x05]), // Metadata v12: topics array of 4, then nothing
            };
            await bad.SendRawAsync(bytes);
            Assert.True(await bad.IsClosedByBrokerAsync(), $"the broker should close the connection after a {kind}");
        }
        await AssertServingAsync();
    }

    [Fact]
    public async Task Produce_refusals_use_kafkas_error_codes_and_append_nothing()
    {
        string topic = Clients.NewTopic("refusals");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);

        var good = Batch(1, 10);
        var corrupt = (byte[])good.Clone();
        corrupt[^1] ^= 0xFF; // a record byte: the CRC no longer matches
        var huge = new RecordBatchBuilder().Add(1, null, new byte[1024 * 1024 + 100]).Build();

        Assert.Equal(KafkaError.CorruptMessage, await ProduceAsync(connection, topic, 0, corrupt));
        Assert.Equal(KafkaError.MessageTooLarge, await ProduceAsync(connection, topic, 0, huge));
        Assert.Equal(KafkaError.UnknownTopicOrPartition, await ProduceAsync(connection, topic, 7, good));
        Assert.Equal(KafkaError.UnknownTopicOrPartition, await ProduceAsync(connection, Clients.NewTopic("missing"), 0, good));
        Assert.Equal(KafkaError.InvalidTopicException, await ProduceAsync(connection, "bad/name", 0, good));
        Assert.Equal(0, await LogEndAsync(connection, topic));

        Assert.Equal(KafkaError.None, await ProduceAsync(connection, topic, 0, good));
        Assert.Equal(10, await LogEndAsync(connection, topic));

        // Fetching beyond the log end is OFFSET_OUT_OF_RANGE.
        var fetch = KafkaApis.Fetch.Request.New().SetInt("MaxWaitMs", 0).SetInt("MinBytes", 1).SetInt("MaxBytes", 1 << 20);
        var t = fetch.AddElement("Topics").SetString("Topic", topic);
        t.AddElement("Partitions").SetInt("Partition", 0).SetInt("FetchOffset", 11).SetInt("PartitionMaxBytes", 1 << 20);
        var fetched = await connection.RequestAsync(KafkaApis.Fetch, 12, fetch);
        var partition = fetched.GetArray("Responses")![0].GetArray("Partitions")![0];
        Assert.Equal((short)KafkaError.OffsetOutOfRange, partition.GetInt16("ErrorCode"));
        Assert.Equal(10, partition.GetInt64("HighWatermark"));
    }

    [Fact]
    public async Task A_fetch_waits_for_data_up_to_max_wait_and_answers_when_it_arrives()
    {
        string topic = Clients.NewTopic("longpoll");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var consumer = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        using var producer = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);

        var started = DateTime.UtcNow;
        var empty = await consumer.RequestAsync(KafkaApis.Fetch, 11, FetchRequest(topic, 0, maxWaitMs: 700));
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromMilliseconds(600), "an empty fetch should wait about max.wait.ms");
        Assert.Equal(0, empty.GetArray("Responses")![0].GetArray("Partitions")![0].GetBytes("Records")?.Length ?? 0);

        started = DateTime.UtcNow;
        int id = await consumer.SendAsync(KafkaApis.Fetch, 11, FetchRequest(topic, 0, maxWaitMs: 20_000));
        await Task.Delay(300);
        Assert.Equal(KafkaError.None, await ProduceAsync(producer, topic, 0, Batch(1, 3)));
        var frame = await consumer.ReadFrameAsync();
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "the fetch should answer when data arrives, not at max.wait.ms");
        var (correlationId, body) = KafkaFrames.DecodeResponse(frame!, KafkaApis.Fetch, 11);
        Assert.Equal(id, correlationId);
        var records = body.GetArray("Responses")![0].GetArray("Partitions")![0].GetBytes("Records")!.Value;
        var batch = Assert.Single(RecordBatch.ReadAll(records));
        Assert.Equal(3, batch.RecordCount);
    }

    [Fact]
    public async Task A_long_poll_of_a_client_that_stopped_sending_is_answered_at_once_and_the_connection_closed()
    {
        // Found by the fuzz test: a fetch asking to wait int.MaxValue ms for int.MaxValue bytes held its connection
        // (and the broker's resources for it) open long after the client had finished.
        string topic = Clients.NewTopic("longpoll-gone");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var fetch = FetchRequest(topic, 0, maxWaitMs: int.MaxValue).SetInt("MinBytes", int.MaxValue);
        int id = await connection.SendAsync(KafkaApis.Fetch, 11, fetch);
        await Task.Delay(200); // the fetch is waiting now
        connection.ShutdownSend();

        var frame = await connection.ReadFrameAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(frame);
        var (correlationId, body) = KafkaFrames.DecodeResponse(frame, KafkaApis.Fetch, 11);
        Assert.Equal(id, correlationId);
        Assert.Equal((short)0, body.GetArray("Responses")![0].GetArray("Partitions")![0].GetInt16("ErrorCode"));
        Assert.True(await connection.IsClosedByBrokerAsync(), "the broker should close the connection after the last answer");
        await AssertServingAsync();
    }

    [Fact]
    public async Task Mutated_requests_never_stop_the_broker()
    {
        string topic = Clients.NewTopic("fuzz");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 1);
        var random = new Random(20_241_123);
        var seeds = new List<byte[]>
        {
            RequestBytes(KafkaApis.Metadata, 12, KafkaApis.Metadata.Request.New()),
            RequestBytes(KafkaApis.Fetch, 13, FetchRequest(topic, 0, maxWaitMs: 0)),
            RequestBytes(KafkaApis.Produce, 9, ProduceRequest(topic, 0, Batch(1, 2))),
            RequestBytes(KafkaApis.ListOffsets, 7, KafkaApis.ListOffsets.Request.New()),
        };
        for (int round = 0; round < 200; round++)
        {
            var bytes = (byte[])seeds[round % seeds.Count].Clone();
            int flips = 1 + random.Next(4);
            for (int i = 0; i < flips; i++) bytes[4 + random.Next(bytes.Length - 4)] = (byte)random.Next(256);
            if (random.Next(4) == 0) Array.Resize(ref bytes, 4 + random.Next(bytes.Length - 4));
            BinaryPrimitives.WriteInt32BigEndian(bytes, bytes.Length - 4);
            using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
            await connection.SendRawAsync(bytes);
            try
            {
                await connection.ReadFrameAsync(TimeSpan.FromSeconds(5)); // an answer or a close: both are fine
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
            }
        }
        await AssertServingAsync();
    }

    private async Task AssertServingAsync()
    {
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        var metadata = await connection.RequestAsync(KafkaApis.Metadata, 12, KafkaApis.Metadata.Request.New().SetArray("Topics", null));
        Assert.Single(metadata.GetArray("Brokers")!);
        Assert.True(_broker.IsRunning);
    }

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[payload.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(frame, payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    private static byte[] RequestBytes(Api api, short version, StructValue body)
    {
        using var writer = new Quill.Kafka.Protocol.Primitives.KafkaWriter();
        KafkaFrames.WriteRequest(writer, new RequestHeader((short)api.Key, version, 1, "fuzz"), body);
        return writer.ToArray();
    }

    private static byte[] Batch(int seed, int count)
    {
        var builder = new RecordBatchBuilder();
        for (int i = 0; i < count; i++) builder.Add(1_700_000_000_000 + i, new byte[] { (byte)seed }, new byte[] { (byte)i, 1, 2, 3 });
        return builder.Build();
    }

    private static StructValue ProduceRequest(string topic, int partition, byte[] records)
    {
        var request = KafkaApis.Produce.Request.New().SetInt("Acks", -1).SetInt("TimeoutMs", 5000);
        request.AddElement("TopicData").SetString("Name", topic)
            .AddElement("PartitionData").SetInt("Index", partition).SetBytes("Records", records);
        return request;
    }

    private static StructValue FetchRequest(string topic, int partition, int maxWaitMs)
    {
        var request = KafkaApis.Fetch.Request.New().SetInt("MaxWaitMs", maxWaitMs).SetInt("MinBytes", 1).SetInt("MaxBytes", 1 << 20);
        request.AddElement("Topics").SetString("Topic", topic)
            .AddElement("Partitions").SetInt("Partition", partition).SetInt("FetchOffset", 0).SetInt("PartitionMaxBytes", 1 << 20);
        return request;
    }

    private static async Task<KafkaError> ProduceAsync(RawKafkaConnection connection, string topic, int partition, byte[] records)
    {
        var response = await connection.RequestAsync(KafkaApis.Produce, 9, ProduceRequest(topic, partition, records));
        return (KafkaError)response.GetArray("Responses")![0].GetArray("PartitionResponses")![0].GetInt16("ErrorCode");
    }

    private static async Task<long> LogEndAsync(RawKafkaConnection connection, string topic)
    {
        var request = KafkaApis.ListOffsets.Request.New().SetInt("ReplicaId", -1);
        request.AddElement("Topics").SetString("Name", topic).AddElement("Partitions").SetInt("PartitionIndex", 0).SetInt("Timestamp", -1);
        var response = await connection.RequestAsync(KafkaApis.ListOffsets, 7, request);
        return response.GetArray("Topics")![0].GetArray("Partitions")![0].GetInt64("Offset");
    }
}
