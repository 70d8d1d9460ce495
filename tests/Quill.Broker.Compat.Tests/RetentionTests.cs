using Confluent.Kafka;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>Retention with a real client: old segments are deleted and the log start offset moves on.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Old_segments_are_deleted_by_time_and_consumers_start_after_them()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        await using var broker = await BrokerProcess.StartWithConfigAsync(keeper.ConnectString,
            new Dictionary<string, string> { ["log.retention.check.interval.ms"] = "300" });
        string topic = Clients.NewTopic("retention");
        await Clients.CreateTopicAsync(broker.BootstrapServers, topic, 1,
            new() { ["segment.bytes"] = "1024", ["retention.ms"] = "3000" });

        using (var producer = Clients.Producer(broker.BootstrapServers, c => c.LingerMs = 0))
        {
            for (int i = 0; i < 40; i++)
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = new string('x', 80) + i });
        }
        string partitionDir = Path.Combine(broker.Directory, "kafka-logs", $"{topic}-0");
        int segmentsBefore = Directory.GetFiles(partitionDir, "*.log").Length;
        Assert.True(segmentsBefore > 3, $"expected several 1 KiB segments, found {segmentsBefore}\n{broker.Diagnostics()}");

        using var consumer = Clients.Consumer(broker.BootstrapServers);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        WatermarkOffsets offsets;
        do
        {
            await Task.Delay(500);
            offsets = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), Clients.Timeout);
        }
        while (offsets.Low.Value == 0 && DateTime.UtcNow < deadline);

        Assert.True(offsets.Low.Value > 0, "retention never moved the log start offset\n" + broker.Diagnostics());
        Assert.Equal(40, offsets.High.Value);
        Assert.True(Directory.GetFiles(partitionDir, "*.log").Length < segmentsBefore, "no segment file was deleted");
        // A consumer asking for the earliest offset starts past what retention removed (all of it may be gone by now,
        // so give it one fresh record to find). Retention goes on meanwhile: the segment holding the offset the client
        // was told is earliest may be deleted before its first fetch, which the broker answers OFFSET_OUT_OF_RANGE, as
        // Kafka does; a consumer resetting to earliest (a real one's usual setting) then looks up the new start.
        using (var producer = Clients.Producer(broker.BootstrapServers))
            await producer.ProduceAsync(topic, new Message<string, string> { Key = "fresh", Value = "fresh" });
        var first = Clients.Consume(broker.BootstrapServers, [new TopicPartitionOffset(topic, 0, Offset.Beginning)], 1,
            c => c.AutoOffsetReset = AutoOffsetReset.Earliest);
        Assert.True(first[0].Offset.Value >= offsets.Low.Value, $"consumer started at {first[0].Offset.Value}, before the log start {offsets.Low.Value}");
    }
}
