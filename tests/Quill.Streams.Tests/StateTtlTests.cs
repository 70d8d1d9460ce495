using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Serialization;
using Quill.Streams.State;

namespace Quill.Streams.Tests;

/// <summary>Keyed state with a time to live in a running job, on the job's (fake) clock.</summary>
[Collection(BrokerCollection.Name)]
public sealed class StateTtlTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task a_count_in_value_state_with_a_time_to_live_starts_over_after_it_and_checkpoints_leave_expired_counts_out()
    {
        string input = Kafka.NewTopic("words"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        // The clock drives processing time and the checkpoints (every 10 s of it).
        var clock = new FakeTimeProvider();
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = Kafka.NewTopic("ttl"),
            TimeProvider = clock,
            CheckpointDirectory = _directory,
            CheckpointInterval = TimeSpan.FromSeconds(10),
        });
        var ttl = new StateTtlConfig(TimeSpan.FromSeconds(10));
        job.FromKafka(input, Serdes.String)
            .KeyBy(word => word!)
            .Process<string>((word, context) =>
            {
                var count = context.State.GetValueState<int>("count", ttl);
                count.Value++;
                context.Emit($"{word}:{count.Value}");
            })
            .ToKafka(output, Serdes.String!);
        await using var running = new RunningJob(job);

        await _kafka.ProduceAsync(input, ["a", "b"]);
        await _kafka.ReadAsync(output, 1, 2, running.Run);
        clock.Advance(TimeSpan.FromSeconds(5));
        await _kafka.ProduceAsync(input, ["a"]);
        await _kafka.ReadAsync(output, 1, 3, running.Run);

        // At 11 s b's count (written at 0) has expired, a's (written at 5 s) has not; the checkpoint taken now has a only.
        clock.Advance(TimeSpan.FromSeconds(6));
        var storage = new CheckpointStorage(_directory);
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (storage.LoadLatest() is not { } checkpoint || checkpoint.SourceOffsets.Values.Sum(p => p.Values.Sum()) != 3)
        {
            if (running.Run.IsCompleted) await running.Run;
            Assert.True(DateTime.UtcNow < deadline, "no checkpoint covered the three records");
            await Task.Delay(50);
        }
        var counts = storage.LoadLatest()!.Operators.Values.Single().SelectMany(s => s.States["count"]).ToList();
        Assert.Equal(["a"], counts.Select(c => c[0].GetString()));

        await _kafka.ProduceAsync(input, ["b", "a"]);
        var records = await _kafka.ReadAsync(output, 1, 5, running.Run);
        Assert.Equal(["a:1", "b:1", "a:2", "b:1", "a:3"], records.Select(r => r.Message.Value));
    }
}
