using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Serialization;
using Quill.Streams.Time;

namespace Quill.Streams.Tests;

/// <summary>Tumbling event-time windows over a real broker, their results read back by a plain consumer.</summary>
[Collection(BrokerCollection.Name)]
public sealed class WindowTests(BrokerFixture fixture)
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);

    [Fact]
    public async Task tumbling_windows_emit_one_reduce_and_one_aggregate_per_key_and_window_once_the_watermark_passes_and_drop_late_records()
    {
        string input = Kafka.NewTopic("readings"), sums = Kafka.NewTopic("sums"), averages = Kafka.NewTopic("averages");
        foreach (string topic in new[] { input, sums, averages }) await _kafka.CreateTopicAsync(topic, 1);
        // Value "sensor,reading"; the timestamp is the Kafka timestamp. f@5000 moves the watermark to 4999, so s1@500
        // after it is late; f@10000 then closes every window up to 9999 (f's own first window among them).
        await _kafka.ProduceAsync(input,
        [
            new Input(null, "s1,1", 0, 100), new Input(null, "s2,10", 0, 200), new Input(null, "s1,2", 0, 900),
            new Input(null, "s2,20", 0, 999), new Input(null, "s1,5", 0, 1000), new Input(null, "f,0", 0, 5000),
            new Input(null, "s1,100", 0, 500), new Input(null, "f,0", 0, 10000),
        ]);

        var job = StreamJob.Create(new StreamJobOptions { BootstrapServers = fixture.Broker.BootstrapServers, JobName = Kafka.NewTopic("windows"), Parallelism = 2 });
        var windowed = job.FromKafka(input, Serdes.String, watermarks: WatermarkStrategy<string?>.ForMonotonousTimestamps())
            .Map(v => (Sensor: v!.Split(',')[0], Reading: long.Parse(v.Split(',')[1])))
            .KeyBy(r => r.Sensor)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1)));
        windowed.Reduce((a, b) => (a.Sensor, a.Reading + b.Reading), (sensor, window, sum) => $"{sensor}@{window.Start}:{sum.Reading}")
            .ToKafka(sums, Serdes.String!);
        windowed.Aggregate(() => (Count: 0, Sum: 0L), (acc, r) => (acc.Count + 1, acc.Sum + r.Reading),
                (sensor, window, acc) => $"{sensor}@{window.Start}-{window.End}:{acc.Sum / (double)acc.Count}")
            .ToKafka(averages, Serdes.String!);
        await using var running = new RunningJob(job);
        var sumRecords = await _kafka.ReadAsync(sums, 1, 4, running.Run);
        var averageRecords = await _kafka.ReadAsync(averages, 1, 4, running.Run);
        await running.StopAsync();

        Assert.Equal(["f@5000:0", "s1@0:3", "s1@1000:5", "s2@0:30"], sumRecords.Select(r => r.Message.Value).Order());
        Assert.Equal(["f@5000-6000:0", "s1@0-1000:1.5", "s1@1000-2000:5", "s2@0-1000:15"], averageRecords.Select(r => r.Message.Value).Order());
        Assert.All(sumRecords, r => Assert.EndsWith("999", r.Message.Timestamp.UnixTimestampMs.ToString()));
        // Nothing more came after the stop flushed the sinks: the late reading made no second s1@0 result.
        Assert.Equal(4, _kafka.ReadAll(sums, 1).Count);
        Assert.Equal(4, _kafka.ReadAll(averages, 1).Count);
    }
}
