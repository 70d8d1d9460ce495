using System.Buffers.Binary;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Broker.Compat.Tests;

/// <summary>librdkafka through Confluent.Kafka (.NET) against a live `quill start`.</summary>
public sealed class ConfluentKafkaTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private readonly BrokerProcess _broker = fixture.Broker;
    private string Bootstrap => _broker.BootstrapServers;

    [Fact]
    public async Task Keyed_messages_come_back_in_order_per_partition()
    {
        string topic = Clients.NewTopic("keyed");
        await Clients.CreateTopicAsync(Bootstrap, topic, 3);
        using (var producer = Clients.Producer(Bootstrap))
        {
            for (int i = 0; i < 300; i++)
                producer.Produce(topic, new Message<string, string> { Key = $"key-{i % 10}", Value = $"{i / 10}" });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }

        var consumed = Clients.ConsumeFromStart(Bootstrap, topic, 3, 300);
        foreach (var byKey in consumed.GroupBy(r => r.Message.Key))
        {
            Assert.Single(byKey.Select(r => r.Partition.Value).Distinct());
            var sequence = byKey.OrderBy(r => r.Offset.Value).Select(r => int.Parse(r.Message.Value)).ToList();
            Assert.Equal(Enumerable.Range(0, 30).ToList(), sequence);
        }
        Assert.True(consumed.Select(r => r.Partition.Value).Distinct().Count() > 1, "10 keys should spread over several partitions");
        foreach (var byPartition in consumed.GroupBy(r => r.Partition.Value))
            Assert.Equal(Enumerable.Range(0, byPartition.Count()).Select(i => (long)i), byPartition.Select(r => r.Offset.Value).Order());
    }

    [Theory]
    [InlineData(CompressionType.Gzip, 1)]
    [InlineData(CompressionType.Snappy, 2)]
    [InlineData(CompressionType.Lz4, 3)]
    [InlineData(CompressionType.Zstd, 4)]
    public async Task Every_codec_round_trips_and_is_stored_as_produced(CompressionType codec, int attributeCodec)
    {
        string topic = Clients.NewTopic($"codec-{codec}".ToLowerInvariant());
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        var values = Enumerable.Range(0, 500).Select(i => $"value {i} " + new string((char)('a' + i % 26), 100)).ToList();
        using (var producer = Clients.Producer(Bootstrap, c => { c.CompressionType = codec; c.LingerMs = 50; }))
        {
            foreach (var v in values) producer.Produce(topic, new Message<string, string> { Key = "k", Value = v });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }
        var consumed = Clients.ConsumeFromStart(Bootstrap, topic, 1, values.Count);
        Assert.Equal(values, consumed.Select(r => r.Message.Value));

        // The broker wrote the producer's compressed batches as they came: the batches on disk carry the codec
        // (librdkafka sends a batch uncompressed when compressing would not make it smaller, so not necessarily all).
        byte[] log = await File.ReadAllBytesAsync(Path.Combine(_broker.LogDir, $"{topic}-0", "00000000000000000000.log"));
        var codecs = new List<int>();
        for (int position = 0; position + 61 <= log.Length; position += 12 + BinaryPrimitives.ReadInt32BigEndian(log.AsSpan(position + 8)))
            codecs.Add(BinaryPrimitives.ReadInt16BigEndian(log.AsSpan(position + 21)) & 0x07);
        Assert.Contains(attributeCodec, codecs);
        Assert.True(log.Length < values.Sum(v => v.Length), "stored batches should be smaller than the raw values");
    }

    [Fact]
    public async Task Admin_client_creates_describes_alters_and_deletes_topics()
    {
        string topic = Clients.NewTopic("admin");
        using var admin = Clients.Admin(Bootstrap);
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = topic, NumPartitions = 4, ReplicationFactor = 1, Configs = new() { ["retention.ms"] = "123456" },
        }]);

        var description = await Clients.DescribeTopicAsync(admin, topic);
        Assert.Equal(4, description.Partitions.Count);
        Assert.NotEqual(Guid.Empty.ToString(), description.TopicId.ToString());
        foreach (var p in description.Partitions)
        {
            Assert.Equal(0, p.Leader.Id);
            Assert.Equal([0], p.Replicas.Select(r => r.Id));
            Assert.Equal([0], p.ISR.Select(r => r.Id));
        }

        var configs = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }]);
        var retention = configs[0].Entries["retention.ms"];
        Assert.Equal("123456", retention.Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, retention.Source);
        Assert.Equal(ConfigSource.DefaultConfig, configs[0].Entries["segment.bytes"].Source);

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [new ConfigResource { Type = ResourceType.Topic, Name = topic }] =
                [new ConfigEntry { Name = "cleanup.policy", Value = "compact", IncrementalOperation = AlterConfigOpType.Set }],
        });
        configs = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }]);
        Assert.Equal("compact", configs[0].Entries["cleanup.policy"].Value);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = 6 }]);
        Assert.Equal(6, (await Clients.DescribeTopicAsync(admin, topic)).Partitions.Count);

        var again = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, again.Results[0].Error.Code);
        var tooMany = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = Clients.NewTopic("rf"), NumPartitions = 1, ReplicationFactor = 3 }]));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, tooMany.Results[0].Error.Code);
        var badName = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "bad/name", NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicException, badName.Results[0].Error.Code);

        await admin.DeleteTopicsAsync([topic]);
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(metadata.Topics, t => t.Topic == topic);
        Assert.False(Directory.Exists(Path.Combine(_broker.LogDir, $"{topic}-0")), "the deleted topic's log should be gone");
    }

    [Fact]
    public async Task Producing_to_an_unknown_topic_creates_it()
    {
        string topic = Clients.NewTopic("auto");
        using (var producer = Clients.Producer(Bootstrap))
        {
            var delivery = await producer.ProduceAsync(topic, new Message<string, string> { Key = "a", Value = "first" });
            Assert.Equal(0, delivery.Offset.Value);
        }
        using var admin = Clients.Admin(Bootstrap);
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        var described = Assert.Single(metadata.Topics);
        Assert.Equal(ErrorCode.NoError, described.Error.Code);
        Assert.Single(described.Partitions); // num.partitions=1
        Assert.Equal("first", Clients.ConsumeFromStart(Bootstrap, topic, 1, 1)[0].Message.Value);
    }

    [Fact]
    public async Task Idempotent_producer_writes_each_message_once_with_a_producer_id()
    {
        string topic = Clients.NewTopic("idempotent");
        await Clients.CreateTopicAsync(Bootstrap, topic, 4);
        using (var producer = Clients.Producer(Bootstrap, c => { c.EnableIdempotence = true; c.MaxInFlight = 5; c.LingerMs = 1; }))
        {
            var deliveries = Enumerable.Range(0, 2000)
                .Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = $"{i % 16}", Value = $"{i}" })).ToList();
            var results = await Task.WhenAll(deliveries);
            Assert.All(results, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
            Assert.Equal(2000, results.Select(r => (r.Partition.Value, r.Offset.Value)).Distinct().Count());
        }
        var consumed = Clients.ConsumeFromStart(Bootstrap, topic, 4, 2000);
        Assert.Equal(Enumerable.Range(0, 2000).ToList(), consumed.Select(r => int.Parse(r.Message.Value)).Order().ToList());

        byte[] log = await File.ReadAllBytesAsync(Path.Combine(_broker.LogDir, $"{topic}-0", "00000000000000000000.log"));
        Assert.True(BinaryPrimitives.ReadInt64BigEndian(log.AsSpan(43)) >= 0, "batches should carry the producer id from InitProducerId");
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(log.AsSpan(53))); // the first batch starts at sequence 0
    }

    [Fact]
    public async Task Consumers_replay_from_earliest_from_an_offset_and_from_a_timestamp()
    {
        string topic = Clients.NewTopic("replay");
        await Clients.CreateTopicAsync(Bootstrap, topic, 1);
        var start = DateTime.UtcNow.AddHours(-1);
        using (var producer = Clients.Producer(Bootstrap))
        {
            for (int i = 0; i < 100; i++)
                producer.Produce(topic, new Message<string, string> { Key = "k", Value = $"{i}", Timestamp = new Timestamp(start.AddSeconds(i)) });
            Assert.Equal(0, producer.Flush(Clients.Timeout));
        }
        var tp = new TopicPartition(topic, 0);

        var fromStart = Clients.Consume(Bootstrap, [new TopicPartitionOffset(tp, Offset.Beginning)], 100);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"{i}"), fromStart.Select(r => r.Message.Value));
        Assert.Equal(start.AddSeconds(7), fromStart[7].Message.Timestamp.UtcDateTime, TimeSpan.FromMilliseconds(1));

        var fromOffset = Clients.Consume(Bootstrap, [new TopicPartitionOffset(tp, 70)], 30);
        Assert.Equal(70, fromOffset[0].Offset.Value);
        Assert.Equal("99", fromOffset[^1].Message.Value);

        using var consumer = Clients.Consumer(Bootstrap);
        var byTime = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(start.AddSeconds(42.5)))], Clients.Timeout);
        Assert.Equal(43, byTime[0].Offset.Value);
        var afterEnd = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(start.AddHours(2)))], Clients.Timeout);
        Assert.Equal(Offset.End, afterEnd[0].Offset);
        var watermarks = consumer.QueryWatermarkOffsets(tp, Clients.Timeout);
        Assert.Equal(0, watermarks.Low.Value);
        Assert.Equal(100, watermarks.High.Value);
        var fromTime = Clients.Consume(Bootstrap, [new TopicPartitionOffset(tp, byTime[0].Offset)], 57);
        Assert.Equal("43", fromTime[0].Message.Value);

        using var admin = Clients.Admin(Bootstrap);
        await admin.DeleteRecordsAsync([new TopicPartitionOffset(tp, 60)]);
        watermarks = consumer.QueryWatermarkOffsets(tp, Clients.Timeout);
        Assert.Equal(60, watermarks.Low.Value);
        Assert.Equal("60", Clients.Consume(Bootstrap, [new TopicPartitionOffset(tp, Offset.Beginning)], 1)[0].Message.Value);
    }
}
