using System.Text.RegularExpressions;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Serialization;

namespace Quill.Streams.Tests;

/// <summary>Where a Kafka source starts: a topic pattern, a timestamp, and latest across a restore (real broker, Confluent.Kafka reads the output).</summary>
[Collection(BrokerCollection.Name)]
public sealed class SourceStartTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private StreamJob NewJob(string? checkpoints = null) => StreamJob.Create(new StreamJobOptions
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        JobName = Kafka.NewTopic("source-start"),
        Parallelism = 2,
        CheckpointDirectory = checkpoints,
        CheckpointInterval = TimeSpan.FromMilliseconds(100),
    });

    private static void CopyValues(DataStream<KafkaRecord<string?, string?>> source, string output) =>
        source.Map(r => r.Value).ToKafka(output, Serdes.String!);

    [Fact]
    public async Task a_source_with_a_topic_pattern_reads_every_topic_whose_whole_name_matches_and_no_other()
    {
        string prefix = Kafka.NewTopic("pattern");
        string output = Kafka.NewTopic("out");
        foreach (string topic in new[] { $"{prefix}-a", $"{prefix}-b", $"{prefix}-b-extra", output })
            await _kafka.CreateTopicAsync(topic, topic == $"{prefix}-b" ? 2 : 1);
        await _kafka.ProduceAsync($"{prefix}-a", ["a1", "a2"]);
        await _kafka.ProduceAsync($"{prefix}-b", ["b1", "b2", "b3"], partitions: 2);
        await _kafka.ProduceAsync($"{prefix}-b-extra", ["not this"]);

        var job = NewJob();
        CopyValues(job.FromKafka(new Regex(Regex.Escape(prefix) + "-[ab]"), StartFrom.Earliest, Serdes.String, Serdes.String), output);
        await using (var running = new RunningJob(job))
        {
            await _kafka.ReadAsync(output, 1, 5, running.Run);
            await running.StopAsync();
        }
        // "-b-extra" contains a match but its whole name does not match: not read, as in Flink and Kafka's own pattern subscription.
        Assert.Equal(["a1", "a2", "b1", "b2", "b3"], _kafka.ReadAll(output, 1).Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task a_source_with_a_pattern_that_matches_no_topic_fails_the_job_with_the_pattern_in_its_error()
    {
        var job = NewJob();
        CopyValues(job.FromKafka(new Regex("no-such-topic-" + Guid.NewGuid().ToString("N")), StartFrom.Earliest, Serdes.String, Serdes.String),
            Kafka.NewTopic("out"));
        var error = await Assert.ThrowsAnyAsync<Confluent.Kafka.KafkaException>(() => job.RunAsync(CancellationToken.None).WaitAsync(Kafka.Timeout));
        Assert.Contains("no topic matches the source's pattern 'no-such-topic-", error.Message);
    }

    [Fact]
    public async Task a_source_from_a_timestamp_starts_at_the_first_record_at_or_after_it_in_each_partition()
    {
        string input = Kafka.NewTopic("timed"), output = Kafka.NewTopic("out");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input,
        [
            new Input("k", "p0@1000", 0, 1000), new Input("k", "p0@2000", 0, 2000), new Input("k", "p0@3000", 0, 3000),
            new Input("k", "p1@1500", 1, 1500), new Input("k", "p1@2500", 1, 2500), new Input("k", "p1@4000", 1, 4000),
        ]);
        var job = NewJob();
        CopyValues(job.FromKafka([input], StartFrom.Timestamp(DateTimeOffset.FromUnixTimeMilliseconds(2000)), Serdes.String, Serdes.String), output);
        await using (var running = new RunningJob(job))
        {
            await _kafka.ReadAsync(output, 1, 4, running.Run);
            await running.StopAsync();
        }
        Assert.Equal(["p0@2000", "p0@3000", "p1@2500", "p1@4000"], _kafka.ReadAll(output, 1).Select(r => r.Message.Value).Order());
    }

    [Fact]
    public async Task a_source_from_latest_restored_from_a_checkpoint_taken_before_its_first_record_reads_what_was_written_in_between()
    {
        string input = Kafka.NewTopic("latest"), output = Kafka.NewTopic("out");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["before the first run"]);
        string checkpoints = Path.Combine(_directory, "checkpoints");

        var first = NewJob(checkpoints);
        CopyValues(first.FromKafka([input], StartFrom.Latest, Serdes.String, Serdes.String), output);
        await using (var running = new RunningJob(first))
        {
            // A checkpoint of the idle source already holds where latest was.
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (new CheckpointStorage(checkpoints).LoadLatest() is not { } checkpoint || !checkpoint.SourceOffsets.Values.Any(p => p.ContainsKey($"{input}:0")))
            {
                if (running.Run.IsCompleted) await running.Run;
                Assert.True(DateTime.UtcNow < deadline, "no checkpoint recorded the source's starting offset");
                await Task.Delay(50);
            }
            await running.StopAsync();
        }
        Assert.Equal(1, new CheckpointStorage(checkpoints).LoadLatest()!.SourceOffsets.Values.Single()[$"{input}:0"]);

        // Written while the job is down: a restore from that checkpoint reads it (a new "latest" would skip it).
        await _kafka.ProduceAsync(input, ["between the runs"]);
        var second = NewJob(checkpoints);
        CopyValues(second.FromKafka([input], StartFrom.Latest, Serdes.String, Serdes.String), output);
        await using (var running = new RunningJob(second))
        {
            await _kafka.ReadAsync(output, 1, 1, running.Run);
            await running.StopAsync();
        }
        Assert.Equal(["between the runs"], _kafka.ReadAll(output, 1).Select(r => r.Message.Value));
    }

    [Fact]
    public async Task an_exactly_once_job_on_a_pattern_restores_its_newest_checkpoint_when_a_new_topic_sorts_before_the_one_its_marker_is_on()
    {
        string prefix = Kafka.NewTopic("eos-pattern"), output = Kafka.NewTopic("out");
        string checkpoints = Path.Combine(_directory, "checkpoints");
        await _kafka.CreateTopicAsync($"{prefix}-b", 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync($"{prefix}-b", ["b1", "b2"]);
        var options = new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = prefix,
            CheckpointDirectory = checkpoints,
            CheckpointInterval = TimeSpan.FromMilliseconds(100),
            DeliveryGuarantee = DeliveryGuarantee.ExactlyOnce,
        };
        var pattern = new Regex(Regex.Escape(prefix) + "-[a-z]");

        var first = StreamJob.Create(options);
        CopyValues(first.FromKafka(pattern, StartFrom.Earliest, Serdes.String, Serdes.String), output);
        await using (var running = new RunningJob(first))
        {
            await _kafka.ReadAsync(output, 1, 2, running.Run);
            await running.StopAsync(); // a final checkpoint, committed with its marker on the first matching topic, -b
        }
        var storage = new CheckpointStorage(checkpoints);
        var newest = storage.LoadLatest()!;
        Assert.Equal($"{prefix}-b", newest.Transaction!.MarkerTopic);
        // Only the newest is left (as after a retention that had removed the one before it): taking it for uncommitted
        // would leave nothing to restore, and the restart would write b1 and b2 again.
        foreach (string file in Directory.GetFiles(checkpoints, CheckpointNames.Files))
            if (CheckpointNames.TryParse(Path.GetFileName(file), out long id) && id != newest.Id) storage.Delete(id);

        // Now -a is the first matching topic. The restore must look for the newest checkpoint's marker where it was
        // put, and restore that checkpoint.
        await _kafka.CreateTopicAsync($"{prefix}-a", 1);
        await _kafka.ProduceAsync($"{prefix}-a", ["a1"]);
        var second = StreamJob.Create(options);
        CopyValues(second.FromKafka(pattern, StartFrom.Earliest, Serdes.String, Serdes.String), output);
        await using (var running = new RunningJob(second))
        {
            await _kafka.ReadAsync(output, 1, 3, running.Run);
            await running.StopAsync();
        }
        Assert.Equal(["a1", "b1", "b2"], _kafka.ReadToEnd(output, 1, Confluent.Kafka.IsolationLevel.ReadCommitted).Select(r => r.Message.Value).Order());
    }
}
