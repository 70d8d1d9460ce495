using Confluent.Kafka;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Framing;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Records;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// acks=0: Kafka sends no response at all, so the connection must go on answering the requests that follow as if the
/// produce had never been there; an acks=0 produce that fails closes the connection (the client's only signal).
/// </summary>
public sealed class AcksZeroProduceTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;
    private string Bootstrap => _broker.BootstrapServers;

    [Fact]
    public async Task Confluent_producer_with_acks_none_delivers_every_record_in_order()
    {
        string topic = Clients.NewTopic("acks0");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        const int count = 3000;
        var statuses = new List<PersistenceStatus>();
        // Small batches and no linger: many produce requests pipelined on one connection, none of them answered.
        using (var producer = Clients.Producer(Bootstrap, c => { c.Acks = Acks.None; c.LingerMs = 0; c.BatchNumMessages = 25; }))
        {
            for (int i = 0; i < count; i++)
            {
                producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"{i}" }, r =>
                {
                    lock (statuses) statuses.Add(r.Error.IsError ? PersistenceStatus.NotPersisted : r.Status);
                });
                if (i % 500 == 499) Assert.Equal(0, producer.Flush(Clients.Timeout));
            }
            Assert.Equal(0, producer.Flush(Clients.Timeout));
            // Metadata still answers on the producer's connections after all those unanswered requests.
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            Assert.Single(admin.GetMetadata(topic, Clients.Timeout).Topics[0].Partitions);
        }
        Assert.Equal(count, statuses.Count);
        Assert.DoesNotContain(PersistenceStatus.NotPersisted, statuses); // librdkafka reports acks=0 as PossiblyPersisted

        var consumed = Clients.ConsumeFromStart(Bootstrap, topic, 1, count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"{i}"), consumed.Select(r => r.Message.Value));
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), consumed.Select(r => r.Offset.Value));
    }

    [Theory]
    [InlineData("acks=0")]
    [InlineData("request.required.acks=0")]
    public async Task Kcat_producer_with_acks_zero_delivers_every_line_in_order(string setting)
    {
        if (!File.Exists("/usr/bin/kcat")) Assert.Fail("kcat is not installed: apt-get install kcat");
        string topic = Clients.NewTopic("kcat-acks0");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        var lines = Enumerable.Range(0, 2000).Select(i => $"line-{i}").ToList();
        var produce = await ToolRunner.RunAsync("kcat",
            ["-b", Bootstrap, "-P", "-t", topic, "-X", setting, "-X", "batch.num.messages=20", "-X", "linger.ms=0"],
            standardInput: string.Join('\n', lines) + "\n", timeout: TimeSpan.FromSeconds(120));
        Assert.True(produce.Succeeded, produce.ToString());

        var consume = await ToolRunner.RunAsync("kcat", ["-b", Bootstrap, "-C", "-t", topic, "-e", "-q", "-f", "%o %s\n"],
            timeout: TimeSpan.FromSeconds(120));
        Assert.True(consume.Succeeded, consume.ToString());
        Assert.Equal(lines.Select((l, i) => $"{i} {l}"), consume.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task An_acks_zero_produce_gets_no_response_and_the_next_request_is_answered_on_the_same_connection()
    {
        string topic = Clients.NewTopic("acks0-raw");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        using var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort);
        for (int i = 0; i < 3; i++)
            await connection.SendAsync(KafkaApis.Produce, 9, ProduceRequest(topic, 0, acks: 0, Batch($"quiet-{i}")));
        var metadata = await connection.RequestAsync(KafkaApis.Metadata, 12,
            KafkaApis.Metadata.Request.New().SetArray("Topics", null));
        Assert.Contains(metadata.GetArray("Topics")!, t => t.GetString("Name") == topic);

        // An acks=1 produce after them is answered, with the offset after the three unanswered batches.
        var answered = await connection.RequestAsync(KafkaApis.Produce, 9, ProduceRequest(topic, 0, acks: 1, Batch("loud")));
        var partition = answered.GetArray("Responses")![0].GetArray("PartitionResponses")![0];
        Assert.Equal(0, partition.GetInt16("ErrorCode"));
        Assert.Equal(3, partition.GetInt64("BaseOffset"));
    }

    [Fact]
    public async Task A_failed_acks_zero_produce_closes_the_connection_and_appends_nothing()
    {
        string topic = Clients.NewTopic("acks0-fail");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        using (var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort))
        {
            await connection.SendAsync(KafkaApis.Produce, 9, ProduceRequest(topic, 7, acks: 0, Batch("nowhere"))); // no partition 7
            Assert.True(await connection.IsClosedByBrokerAsync(), "an acks=0 produce that fails should close the connection");
        }
        using (var connection = await RawKafkaConnection.ConnectAsync(_broker.KafkaPort))
        {
            var answered = await connection.RequestAsync(KafkaApis.Produce, 9, ProduceRequest(topic, 0, acks: -1, Batch("first")));
            Assert.Equal(0, answered.GetArray("Responses")![0].GetArray("PartitionResponses")![0].GetInt64("BaseOffset"));
        }
    }

    private static byte[] Batch(string value) => new RecordBatchBuilder().Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null,
        System.Text.Encoding.UTF8.GetBytes(value)).Build();

    private static Quill.Kafka.Protocol.Schema.StructValue ProduceRequest(string topic, int partition, short acks, byte[] batch)
    {
        var request = KafkaApis.Produce.Request.New().SetInt("Acks", acks).SetInt("TimeoutMs", 30_000);
        request.AddElement("TopicData").SetString("Name", topic)
            .AddElement("PartitionData").SetInt("Index", partition).SetBytes("Records", batch);
        return request;
    }
}
