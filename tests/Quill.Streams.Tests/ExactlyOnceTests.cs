using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Examples.WordCount;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// Exactly-once jobs: their output, read with isolation.level=read_committed by a plain Confluent.Kafka consumer, holds
/// each result once, also across SIGKILLs, and shows nothing until the checkpoint covering it completes.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ExactlyOnceTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The newest checkpoint (null before the first, or when the file listed was just replaced by a newer one).</summary>
    private Checkpoint? LatestCheckpoint()
    {
        try
        {
            return new CheckpointStorage(_directory).LoadLatest();
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>How many input records a checkpoint covers (0 for none).</summary>
    private static long Covered(Checkpoint? checkpoint) => checkpoint?.SourceOffsets.Values.Sum(p => p.Values.Sum()) ?? 0;

    private long CheckpointedRecords() => Covered(LatestCheckpoint());

    /// <summary>Waits for a checkpoint covering <paramref name="records"/> input records whose marker is not <paramref name="notMarker"/>.</summary>
    private async Task<Checkpoint> WaitForCheckpointCoveringAsync(long records, JobProcess job, long? notMarker = null)
    {
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (true)
        {
            var checkpoint = LatestCheckpoint();
            if (checkpoint is not null && Covered(checkpoint) >= records && checkpoint.Transaction?.Marker != notMarker) return checkpoint;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no new checkpoint covered {records} input records\n{job.Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits until some partition holds output of a transaction still open (records read_committed cannot see yet).</summary>
    private static async Task WaitForOpenOutputAsync(OpenTransactions open, JobProcess job)
    {
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (open.Ranges().All(r => r.IsEmpty))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the job never had output in an open transaction\n{job.Output}");
            await Task.Delay(1);
        }
    }

    /// <summary>Whether any record in <paramref name="ranges"/> was aborted: written, and never visible to read_committed readers.</summary>
    private bool AnyAborted(string topic, int partitions, OffsetRange[] ranges)
    {
        var committed = _kafka.ReadToEnd(topic, partitions, IsolationLevel.ReadCommitted).Select(r => (r.Partition.Value, r.Offset.Value)).ToHashSet();
        return _kafka.ReadToEnd(topic, partitions, IsolationLevel.ReadUncommitted)
            .Any(r => ranges.Any(range => range.Contains(r.Partition.Value, r.Offset.Value)) && !committed.Contains((r.Partition.Value, r.Offset.Value)));
    }

    [Fact]
    public async Task an_exactly_once_word_count_killed_twice_with_output_uncommitted_writes_every_count_once_for_read_committed_readers()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 2);
        // 3 words a line: a few frequent words (long runs of counts) and one unique word per line.
        string[] lines = [.. Enumerable.Range(0, 2000).Select(i => $"a{i % 7} b{i % 11} u{i}")];
        var totals = lines.SelectMany(l => l.Split(' ')).CountBy(w => w).ToDictionary(p => p.Key, p => p.Value);
        string[] arguments =
        [
            "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output, "--parallelism", "2",
            "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "100", "--exactly-once",
        ];

        // The input keeps coming, a little ahead of the job, so that the job keeps writing output.
        using var stopFeeding = new CancellationTokenSource();
        var feeding = Task.Run(async () =>
        {
            for (int next = 0; next < lines.Length; next += 20)
            {
                while (next - CheckpointedRecords() > 200) await Task.Delay(20, stopFeeding.Token);
                await _kafka.ProduceAsync(input, lines[next..(next + 20)].Select((l, i) => new Input(null, l, (next + i) % 2, null)));
            }
        });

        // The dangerous kill: while a transaction holds output on the broker. Each run is killed as soon as it has
        // such a transaction open; whether the kill hit it (the transaction could still commit between the look and
        // the kill) is known once the next run has fenced the dead one's producers: its records are then aborted.
        using var open = new OpenTransactions(fixture.Broker.BootstrapServers, output, 2);
        const int maxKills = 8;
        int kills = 0, dangerousKills = 0;
        OffsetRange[]? openAtKill = null;
        long? markerAtKill = null;
        var job = JobProcess.Start("WordCount", arguments);
        try
        {
            while (true)
            {
                // A checkpoint of this run (or the restore's fallback) comes after its InitTransactions resolved the last kill's.
                await WaitForCheckpointCoveringAsync(150 * (kills + 1), job, markerAtKill);
                if (openAtKill is not null && AnyAborted(output, 2, openAtKill)) dangerousKills++;
                if (dangerousKills == 2) break;
                Assert.True(kills < maxKills, $"only {dangerousKills} of {kills} kills hit a transaction holding output");
                await WaitForOpenOutputAsync(open, job);
                job.Kill();
                kills++;
                openAtKill = open.Ranges();
                markerAtKill = LatestCheckpoint()?.Transaction?.Marker;
                job.Dispose();
                job = JobProcess.Start("WordCount", arguments);
            }
            log.WriteLine($"{kills} kills, {dangerousKills} of them with output in an open transaction");
            await feeding;
            await _kafka.ReadAsync(output, 2, totals.Values.Sum(), job.Exited);
            await WaitForCheckpointCoveringAsync(lines.Length, job);
        }
        finally
        {
            stopFeeding.Cancel(); // a failure above leaves the feeding loop waiting for a checkpoint
            job.Dispose();
        }

        // Every word's counts, read committed, are exactly 1, 2, ... up to its total: none twice (a replay after a kill
        // whose output had been committed), none missing (output of a checkpoint lost in a kill), none of the aborted.
        _kafka.AssertEveryCountOnce(output, 2, totals);
    }

    [Fact]
    public async Task output_is_invisible_to_read_committed_readers_until_the_checkpoint_covering_it_completes_or_a_clean_stop()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["to be or not to be"]);
        // Checkpoints are triggered by this clock only: none happens until the test moves it on.
        var clock = new FakeTimeProvider();
        string group = Kafka.NewTopic("group");
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = Kafka.NewTopic("job"),
            GroupId = group,
            CheckpointDirectory = _directory,
            CheckpointInterval = TimeSpan.FromSeconds(1),
            TimeProvider = clock,
            DeliveryGuarantee = DeliveryGuarantee.ExactlyOnce,
        });
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);

        // All six counts are written (read_uncommitted sees them) but not committed: read_committed sees nothing.
        var written = await _kafka.ReadAsync(output, 1, 6, running.Run, IsolationLevel.ReadUncommitted);
        Assert.Equal(["be:1", "be:2", "not:1", "or:1", "to:1", "to:2"], written.Select(r => $"{r.Message.Key}:{r.Message.Value}").Order());
        Assert.Empty(_kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted));
        Assert.Null(new CheckpointStorage(_directory).LoadLatest());

        clock.Advance(TimeSpan.FromSeconds(1));
        var committed = await _kafka.ReadAsync(output, 1, 6, running.Run, IsolationLevel.ReadCommitted);
        Assert.Equal(written.Select(r => r.Message.Value).Order(), committed.Select(r => r.Message.Value).Order());
        var checkpoint = new CheckpointStorage(_directory).LoadLatest();
        Assert.NotNull(checkpoint?.Transaction);
        Assert.Equal(1, checkpoint.SourceOffsets.Values.Single()[$"{input}:0"]);

        // The checkpoint's source offsets were committed to the job's group with the output, for monitoring.
        using var reader = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = fixture.Broker.BootstrapServers, GroupId = group }).Build();
        Assert.Equal(1, reader.Committed([new TopicPartition(input, 0)], Kafka.Timeout).Single().Offset.Value);

        // A clean stop commits what came after the last checkpoint with a final one.
        await _kafka.ProduceAsync(input, ["be quick"]);
        await _kafka.ReadAsync(output, 1, 8, running.Run, IsolationLevel.ReadUncommitted);
        await running.StopAsync();
        Assert.Equal(8, _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted).Count);
        Assert.Equal(2, reader.Committed([new TopicPartition(input, 0)], Kafka.Timeout).Single().Offset.Value);
    }

    [Fact]
    public async Task a_checkpoint_whose_output_transaction_never_committed_is_dropped_and_its_input_replayed_from_the_one_before()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string jobName = Kafka.NewTopic("job");
        StreamJob Job(FakeTimeProvider clock)
        {
            var job = StreamJob.Create(new StreamJobOptions
            {
                BootstrapServers = fixture.Broker.BootstrapServers,
                JobName = jobName,
                CheckpointDirectory = _directory,
                CheckpointInterval = TimeSpan.FromSeconds(1),
                TimeProvider = clock,
                DeliveryGuarantee = DeliveryGuarantee.ExactlyOnce,
            });
            WordCountJob.Define(job, input, output);
            return job;
        }

        // A clean stop takes a final checkpoint: "to be" is committed with checkpoint 1.
        await _kafka.ProduceAsync(input, ["to be"]);
        await using (var first = new RunningJob(Job(new FakeTimeProvider())))
        {
            await _kafka.ReadAsync(output, 1, 2, first.Run, IsolationLevel.ReadUncommitted);
        }
        Assert.Equal(2, _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted).Count);

        // What a kill between writing checkpoint 2 and committing its transaction leaves: the file, its offsets past
        // "to be or", with a marker that never reached the marker group (and the transaction, aborted by the restart).
        await _kafka.ProduceAsync(input, ["to be or"]);
        var storage = new CheckpointStorage(_directory);
        var checkpoint = storage.LoadLatest()!;
        Assert.Equal(1, checkpoint.Id);
        checkpoint.Id = 2;
        checkpoint.SourceOffsets.Values.Single()[$"{input}:0"] = 2;
        checkpoint.Transaction!.Marker++;
        storage.Write(checkpoint);

        // Restoring checkpoint 2 would lose "to be or"; the job restores checkpoint 1 and counts it.
        await using var second = new RunningJob(Job(new FakeTimeProvider()));
        await _kafka.ReadAsync(output, 1, 5, second.Run, IsolationLevel.ReadUncommitted);
        await second.StopAsync();

        var committed = _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted);
        Assert.Equal(["be:1", "be:2", "or:1", "to:1", "to:2"], committed.Select(r => $"{r.Message.Key}:{r.Message.Value}").Order());
        Assert.NotEqual(checkpoint.Transaction.Marker, storage.LoadLatest()!.Transaction!.Marker);
    }

    [Fact]
    public async Task an_at_least_once_restart_drops_a_checkpoint_an_exactly_once_run_wrote_whose_output_never_committed()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string jobName = Kafka.NewTopic("job");
        StreamJob Job(DeliveryGuarantee guarantee)
        {
            var job = StreamJob.Create(new StreamJobOptions
            {
                BootstrapServers = fixture.Broker.BootstrapServers,
                JobName = jobName,
                CheckpointDirectory = _directory,
                CheckpointInterval = TimeSpan.FromSeconds(1),
                TimeProvider = new FakeTimeProvider(), // no periodic checkpoints: only the exactly-once stop's final one
                DeliveryGuarantee = guarantee,
            });
            WordCountJob.Define(job, input, output);
            return job;
        }

        // Exactly-once, stopped cleanly: "to be" committed with checkpoint 1.
        await _kafka.ProduceAsync(input, ["to be"]);
        await using (var first = new RunningJob(Job(DeliveryGuarantee.ExactlyOnce)))
        {
            await _kafka.ReadAsync(output, 1, 2, first.Run, IsolationLevel.ReadUncommitted);
        }

        // As a kill between writing checkpoint 2 and committing its transaction leaves it (see the test above).
        await _kafka.ProduceAsync(input, ["to be or"]);
        var storage = new CheckpointStorage(_directory);
        var checkpoint = storage.LoadLatest()!;
        checkpoint.Id = 2;
        checkpoint.SourceOffsets.Values.Single()[$"{input}:0"] = 2;
        checkpoint.Transaction!.Marker++;
        storage.Write(checkpoint);

        // At-least-once now: checkpoint 2 is dropped, checkpoint 1 restored, "to be or" counted on from it.
        await using var second = new RunningJob(Job(DeliveryGuarantee.AtLeastOnce));
        var records = await _kafka.ReadAsync(output, 1, 5, second.Run, IsolationLevel.ReadUncommitted);
        Assert.Equal(["be:1", "be:2", "or:1", "to:1", "to:2"], records.Select(r => $"{r.Message.Key}:{r.Message.Value}").Order());
        Assert.False(File.Exists(storage.PathOf(2)));
    }

    [Fact]
    public void exactly_once_without_checkpointing_is_refused_with_an_error_that_says_what_is_missing()
    {
        var error = Assert.Throws<ArgumentException>(() => StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            DeliveryGuarantee = DeliveryGuarantee.ExactlyOnce,
        }));
        Assert.Contains("ExactlyOnce needs checkpointing: set CheckpointDirectory", error.Message);
    }
}
