using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Examples.FraudDetector;

namespace Quill.Streams.Tests;

/// <summary>The fraud detector example (keyed state and event-time timers) against the live broker.</summary>
[Collection(BrokerCollection.Name)]
public sealed class FraudDetectorTests(BrokerFixture fixture)
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);

    [Fact]
    public async Task a_tiny_transaction_then_a_large_one_within_the_window_raises_one_alert_per_account()
    {
        string input = Kafka.NewTopic("transactions"), output = Kafka.NewTopic("alerts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        // Window 10 s. a: tiny then large 7 s later (alert). b: 13 s later (too late). c: large before tiny. d: tiny,
        // a medium one, then large (alert, from the tiny). e: tiny, tiny again, large (alert, from the second tiny).
        // z, last: an alert that can only come once everything before it was handled.
        await _kafka.ProduceAsync(input,
        [
            new Input("a", "0.50", 0, 1000), new Input("b", "0.50", 0, 2000), new Input("c", "900.00", 0, 3000),
            new Input("c", "0.20", 0, 4000), new Input("d", "0.10", 0, 5000), new Input("d", "50", 0, 6000),
            new Input("e", "0.90", 0, 6500), new Input("a", "600.00", 0, 8000), new Input("d", "800", 0, 9000),
            new Input("e", "0.05", 0, 10000), new Input("e", "501", 0, 12000), new Input("b", "700", 0, 15000),
            new Input("z", "0.01", 0, 30000), new Input("z", "1000", 0, 31000),
        ]);

        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers, JobName = Kafka.NewTopic("fraud"), Parallelism = 2,
        });
        FraudDetectorJob.Define(job, input, output, TimeSpan.FromSeconds(10));
        await using var running = new RunningJob(job);
        var records = await _kafka.ReadAsync(output, 1, 4, running.Run);
        await running.StopAsync();

        var alerts = records.Select(r => System.Text.Json.JsonSerializer.Deserialize<Alert>(r.Message.Value!)!).OrderBy(a => a.Account).ToList();
        Assert.Equal(
        [
            new Alert("a", 0.50m, 1000, 600.00m, 8000), new Alert("d", 0.10m, 5000, 800m, 9000),
            new Alert("e", 0.05m, 10000, 501m, 12000), new Alert("z", 0.01m, 30000, 1000m, 31000),
        ], alerts);
        Assert.Equal(["a", "d", "e", "z"], records.Select(r => r.Message.Key).Order());
        Assert.Equal(4, _kafka.ReadAll(output, 1).Count);
    }
}
