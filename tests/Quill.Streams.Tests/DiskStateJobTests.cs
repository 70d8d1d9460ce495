using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Examples.WordCount;
using Quill.Streams.State;

namespace Quill.Streams.Tests;

/// <summary>WordCount with its state on disk (RocksDB) against the real broker: killed with SIGKILL, restarted from its checkpoint.</summary>
[Collection(BrokerCollection.Name)]
public sealed class DiskStateJobTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);
    private string Checkpoints => Path.Combine(_directory, "checkpoints");
    private string State => Path.Combine(_directory, "state");

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private string[] Arguments(string input, string output, int parallelism, string backend) =>
    [
        "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output,
        "--parallelism", $"{parallelism}", "--checkpoint-dir", Checkpoints, "--checkpoint-interval-ms", "100", "--at-least-once",
        "--state-backend", backend, "--state-dir", State, "--state-cache-mb", "8",
    ];

    /// <summary>Every word's outputs are exactly 1, 2, ... up to its total: restored counts went on, none counted twice.</summary>
    private static void AssertExactCounts(Dictionary<string, long> totals, IEnumerable<Confluent.Kafka.ConsumeResult<string?, string?>> records)
    {
        var counts = records.GroupBy(r => r.Message.Key!)
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.Offset.Value).Select(r => long.Parse(r.Message.Value!)).ToList());
        Assert.Equal(totals.Keys.Order(), counts.Keys.Order());
        foreach (var (word, total) in totals) Assert.Equal(Enumerable.Range(1, (int)total).Select(i => (long)i), counts[word]);
    }

    [Fact]
    public async Task word_count_on_the_disk_backend_killed_with_sigkill_restarts_from_its_checkpoint_with_exact_counts()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 1);
        string[] before = ["to be or not to be", "that is the question", "to be"];
        string[] after = ["be quick", "or be dead", "question"];

        await _kafka.ProduceAsync(input, before, partitions: 2);
        using (var first = JobProcess.Start("WordCount", Arguments(input, output, 2, "disk")))
        {
            await _kafka.ReadAsync(output, 1, CheckpointProgress.WordTotals(before).Values.Sum(x => (int)x), first.Exited);
            await CheckpointProgress.WaitUntilCoveringAsync(Checkpoints, before.Length, first);
            // The counts are in RocksDB's files under the state directory while the job runs.
            Assert.Contains(Directory.EnumerateFiles(Path.Combine(State, "word-count")), f => Path.GetFileName(f) == "CURRENT");
            first.Kill();
        }
        // The checkpoint names a state file per counting task instead of holding the counts.
        var newest = new CheckpointStorage(Checkpoints).LoadLatest()!;
        var tasks = newest.Operators["counts"];
        Assert.Equal(2, tasks.Count);
        Assert.All(tasks, t => Assert.True(File.Exists(Path.Combine(Checkpoints, t.File!)), t.File));
        Assert.All(tasks, t => Assert.Empty(t.States));

        await _kafka.ProduceAsync(input, after, partitions: 2);
        var totals = CheckpointProgress.WordTotals([.. before, .. after]);
        using var second = JobProcess.Start("WordCount", Arguments(input, output, 3, "disk"));
        AssertExactCounts(totals, await _kafka.ReadAsync(output, 1, (int)totals.Values.Sum(), second.Exited));
    }

    [Fact]
    public async Task a_savepoint_of_state_on_disk_carries_its_state_files_and_a_job_restores_it_once_the_checkpoints_are_gone()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 1);
        string[] before = ["to be or not to be", "that is the question"], after = ["to be quick", "question"];
        StreamJobOptions Options(string? fromSavepoint) => new()
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = "word-count",
            Parallelism = 2,
            CheckpointDirectory = Checkpoints,
            CheckpointInterval = TimeSpan.FromMilliseconds(100),
            SavepointDirectory = Path.Combine(_directory, "savepoints"),
            FromSavepoint = fromSavepoint,
            StateBackend = StateBackend.OnDisk(State, 8 << 20),
        };

        await _kafka.ProduceAsync(input, before, partitions: 2);
        var first = StreamJob.Create(Options(null));
        WordCountJob.Define(first, input, output);
        string savepoint;
        await using (var running = new RunningJob(first))
        {
            await _kafka.ReadAsync(output, 1, (int)CheckpointProgress.WordTotals(before).Values.Sum(), running.Run);
            savepoint = await first.TriggerSavepointAsync();
            await running.StopAsync();
        }
        // Old checkpoints' state files went with them (the newest two are kept; a checkpoint cut short by the stop
        // may have left files above the newest).
        long newestId = new CheckpointStorage(Checkpoints).LoadLatest()!.Id;
        var stateDirectories = Directory.GetDirectories(Checkpoints, "chk-*.state");
        Assert.InRange(stateDirectories.Count(d => string.CompareOrdinal(Path.GetFileName(d), $"chk-{newestId:D19}.state") <= 0), 1, 2);
        Assert.All(stateDirectories.Where(d => string.CompareOrdinal(Path.GetFileName(d), $"chk-{newestId:D19}.state") <= 0),
            d => Assert.True(File.Exists(Path.ChangeExtension(d, ".json")), $"{d} outlived its checkpoint"));
        var stored = Savepoints.Read(savepoint);
        Assert.Equal(2, stored.Operators["counts"].Count);
        Assert.All(stored.Operators["counts"], t => Assert.True(File.Exists(Path.Combine(savepoint, t.File!)), t.File));

        // Without the checkpoints (and their state files) the savepoint alone carries the counts on.
        Directory.Delete(Checkpoints, recursive: true);
        await _kafka.ProduceAsync(input, after, partitions: 2);
        var totals = CheckpointProgress.WordTotals([.. before, .. after]);
        var second = StreamJob.Create(Options(savepoint));
        WordCountJob.Define(second, input, output);
        await using (var running = new RunningJob(second))
        {
            await _kafka.ReadAsync(output, 1, (int)totals.Values.Sum(), running.Run);
            await running.StopAsync();
        }
        AssertExactCounts(totals, _kafka.ReadToEnd(output, 1, Confluent.Kafka.IsolationLevel.ReadCommitted));
    }

    [Fact]
    public async Task a_checkpoint_written_on_the_disk_backend_restores_on_the_memory_backend_and_back()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string[][] batches = [["a b a"], ["b c"], ["a c c"]];
        string[] backends = ["disk", "memory", "disk"];
        var sent = new List<string>();
        for (int run = 0; run < batches.Length; run++)
        {
            await _kafka.ProduceAsync(input, batches[run], partitions: 1);
            sent.AddRange(batches[run]);
            using var job = JobProcess.Start("WordCount", Arguments(input, output, 1, backends[run]));
            await _kafka.ReadAsync(output, 1, (int)CheckpointProgress.WordTotals(sent).Values.Sum(), job.Exited);
            await CheckpointProgress.WaitUntilCoveringAsync(Checkpoints, sent.Count, job);
            job.Kill();
        }
        // Everything the three runs wrote, to the end of the topic: nothing counted twice, nothing started over.
        AssertExactCounts(CheckpointProgress.WordTotals(sent), _kafka.ReadToEnd(output, 1, Confluent.Kafka.IsolationLevel.ReadCommitted));
    }

    [Fact]
    public async Task a_state_file_that_cannot_be_written_off_the_task_fails_the_job_and_no_checkpoint_completes_without_it()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        // Files where the first checkpoints' state directories would go: a task's write fails on another thread.
        Directory.CreateDirectory(Checkpoints);
        for (long id = 1; id <= 100; id++) await File.WriteAllTextAsync(Path.Combine(Checkpoints, $"chk-{id:D19}.state"), "in the way");
        await _kafka.ProduceAsync(input, ["a b a"], partitions: 1);
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = "word-count",
            CheckpointDirectory = Checkpoints,
            CheckpointInterval = TimeSpan.FromMilliseconds(100),
            StateBackend = StateBackend.OnDisk(State, 8 << 20),
        });
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        var failure = await Assert.ThrowsAnyAsync<IOException>(() => running.Run.WaitAsync(Kafka.Timeout));
        Assert.Contains(".state", failure.Message);
        Assert.Empty(Directory.GetFiles(Checkpoints, "chk-*.json"));
    }
}
