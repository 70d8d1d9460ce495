using Confluent.Kafka;

namespace Quill.Broker.Compat.Tests;

/// <summary>kill -9 of `quill start` (broker and embedded Keeper together), then a restart on the same data.</summary>
public sealed class KillRestartTests : IAsyncLifetime
{
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync();
    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Nothing_acknowledged_with_acks_all_is_lost_after_kill_9()
    {
        string topic = Clients.NewTopic("durable");
        await Clients.CreateTopicAsync(_broker.BootstrapServers, topic, 2);
        var acknowledged = new List<DeliveryResult<string, string>>();
        using (var producer = Clients.Producer(_broker.BootstrapServers, c => c.EnableIdempotence = true))
        {
            var sends = Enumerable.Range(0, 3000).Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = $"{i % 7}", Value = $"{i}" }));
            acknowledged.AddRange(await Task.WhenAll(sends));
        }

        _broker.Kill();
        await _broker.StartAgainAsync();

        var consumed = Clients.ConsumeFromStart(_broker.BootstrapServers, topic, 2, acknowledged.Count);
        Assert.Equal(
            acknowledged.Select(a => (a.Partition.Value, a.Offset.Value, a.Message.Value)).Order(),
            consumed.Select(c => (c.Partition.Value, c.Offset.Value, c.Message.Value)).Order());

        // The log continues where it was, and the topic is still described as before.
        using var producerAfter = Clients.Producer(_broker.BootstrapServers);
        var next = await producerAfter.ProduceAsync(new TopicPartition(topic, 0), new Message<string, string> { Key = "after", Value = "restart" });
        Assert.Equal(acknowledged.Count(a => a.Partition.Value == 0), next.Offset.Value);
        Assert.Contains("Re-attached to Keeper session", _broker.Output);
    }
}
