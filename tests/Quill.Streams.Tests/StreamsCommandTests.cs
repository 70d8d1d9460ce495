using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Commands;
using Quill.Keeper.Client;
using Quill.Streams.Api;
using Quill.Streams.Examples.WordCount;
using Quill.Testing;

namespace Quill.Streams.Tests;

/// <summary>`quill streams` (the built quill.dll, run as a process) against a highly available job in the broker's Keeper.</summary>
[Collection(BrokerCollection.Name)]
public sealed class StreamsCommandTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-cli-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static Task<ToolResult> QuillAsync(params string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return ToolRunner.RunAsync(dotnet, [Path.Combine(AppContext.BaseDirectory, "quill.dll"), .. arguments]);
    }

    [Fact]
    public async Task quill_streams_lists_the_leader_and_its_checkpoints_and_takes_a_savepoint_through_keeper()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["to be or not to be"]);
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = jobId,
            CheckpointDirectory = Path.Combine(_directory, "checkpoints"),
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
            HighAvailability = new HighAvailabilityOptions { Keeper = Keeper, InstanceId = "solo", SessionTimeout = TimeSpan.FromSeconds(8) },
        });
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 1, 6, running.Run, IsolationLevel.ReadUncommitted);
        // A checkpoint is complete once its pointer is in Keeper (the file is written first): wait until `list` names it.
        ToolResult list = null!;
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        do
        {
            if (list is not null) await Task.Delay(200);
            list = await QuillAsync("streams", "list", "--keeper", Keeper);
            Assert.True(list.Succeeded, list.ToString());
        }
        while (!list.StdOut.Contains(Path.Combine(_directory, "checkpoints"), StringComparison.Ordinal) && DateTime.UtcNow < deadline);
        // The instances come first; the lag and savepoint sections follow after a blank line.
        var row = list.StdOut.Split('\n').TakeWhile(l => l.Trim().Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(cells => cells.Length > 0 && cells[0] == jobId);
        Assert.Equal(["solo", "leader"], row[1..3]);
        Assert.Contains(Path.Combine(_directory, "checkpoints"), list.StdOut);

        string savepoints = Path.Combine(_directory, "savepoints");
        var savepoint = await QuillAsync("streams", "savepoint", "--keeper", Keeper, "--job-id", jobId, "--directory", savepoints);
        Assert.True(savepoint.Succeeded, savepoint.ToString());
        string path = savepoint.StdOut.Trim();
        Assert.StartsWith(savepoints, path);
        Assert.True(File.Exists(Path.Combine(path, "_metadata")), savepoint.ToString());

        // Listed in Keeper once written, and so by `list`.
        var listed = await QuillAsync("streams", "list", "--keeper", Keeper);
        Assert.True(listed.Succeeded, listed.ToString());
        var savepointRow = Section(listed.StdOut, "SAVEPOINT").Single(cells => cells[0] == jobId);
        Assert.Equal(path, savepointRow[^1]);

        var unknown = await QuillAsync("streams", "savepoint", "--keeper", Keeper, "--job-id", "no-such-job");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no job at /quill-streams/no-such-job", unknown.StdErr);
    }
    /// <summary>The rows (cells split on spaces) of the section of `quill streams` output whose header has <paramref name="column"/>.</summary>
    private static List<string[]> Section(string output, string column) =>
        output.Split('\n').SkipWhile(l => !l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(column)).Skip(1)
            .TakeWhile(l => l.Trim().Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    [Fact]
    public async Task quill_streams_lag_shows_each_source_partition_behind_its_log_end_and_list_totals_it()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["a b", "c d", "a c", "b d", "a a", "e f"], partitions: 2); // three lines a partition
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = jobId,
            CheckpointDirectory = Path.Combine(_directory, "checkpoints"),
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
            HighAvailability = new HighAvailabilityOptions { Keeper = Keeper, InstanceId = "solo", SessionTimeout = TimeSpan.FromSeconds(8) },
        });
        WordCountJob.Define(job, input, output);
        await using (var running = new RunningJob(job))
        {
            // Until a completed checkpoint (named in Keeper) covers all six lines and the group has them committed.
            await using var keeper = await KeeperClient.ConnectAsync(Keeper);
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (await StreamsLag.ReadAsync(keeper, "/quill-streams/" + jobId, admin, null, TextWriter.Null, CancellationToken.None) is var read
                && !(read.Partitions.Count == 2 && read.Partitions.All(p => p.CheckpointOffset == 3 && p.GroupOffset == 3)))
            {
                if (running.Run.IsFaulted) await running.Run;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no checkpoint and group offsets covering the input: {string.Join(", ", read.Partitions)}");
                await Task.Delay(100);
            }
            var caughtUp = await QuillAsync("streams", "lag", "--keeper", Keeper, "--job-id", jobId, "--bootstrap-server", fixture.Broker.BootstrapServers);
            Assert.True(caughtUp.Succeeded, caughtUp.ToString());
            Assert.Equal([[jobId, input, "0", "3", "3", "3", "0"], [jobId, input, "1", "3", "3", "3", "0"]], Section(caughtUp.StdOut, "LAG"));
            Assert.Contains($"job {jobId}: checkpoint ", caughtUp.StdOut);
            Assert.Contains(", consumer group " + jobId + ", total lag 0", caughtUp.StdOut);
            await running.StopAsync();
        }

        // Stopped: what comes now is lag, per partition.
        await _kafka.ProduceAsync(input, [new Input(null, "x", 0, null), new Input(null, "y", 0, null), new Input(null, "z", 0, null), new Input(null, "w", 1, null)]);
        var behind = await QuillAsync("streams", "lag", "--keeper", Keeper, "--job-id", jobId, "--bootstrap-server", fixture.Broker.BootstrapServers);
        Assert.True(behind.Succeeded, behind.ToString());
        Assert.Equal([[jobId, input, "0", "3", "3", "6", "3"], [jobId, input, "1", "3", "3", "4", "1"]], Section(behind.StdOut, "LAG"));

        var list = await QuillAsync("streams", "list", "--keeper", Keeper, "--bootstrap-server", fixture.Broker.BootstrapServers);
        Assert.True(list.Succeeded, list.ToString());
        var total = Section(list.StdOut, "PARTITIONS").Single(cells => cells[0] == jobId);
        Assert.Equal([jobId, "2", "4"], total[2..]);

        var unknown = await QuillAsync("streams", "lag", "--keeper", Keeper, "--job-id", "no-such-job", "--bootstrap-server", fixture.Broker.BootstrapServers);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no job at /quill-streams/no-such-job", unknown.StdErr);
    }

    [Fact]
    public async Task an_at_least_once_job_commits_its_group_offsets_with_each_completed_checkpoint_while_it_runs()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobName = Kafka.NewTopic("alo");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["a b", "c d", "e f", "g h"], partitions: 2);
        string checkpoints = Path.Combine(_directory, "alo");
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = jobName,
            CheckpointDirectory = checkpoints,
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
        });
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        using var group = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = fixture.Broker.BootstrapServers, GroupId = jobName }).Build();
        TopicPartition[] partitions = [new(input, 0), new(input, 1)];

        async Task WaitForCommittedAsync(long[] expected)
        {
            var deadline = DateTime.UtcNow + Kafka.Timeout;
            while (group.Committed(partitions, Kafka.Timeout).Select(o => o.Offset.Value).ToArray() is var committed && !committed.SequenceEqual(expected))
            {
                if (running.Run.IsCompleted) await running.Run;
                Assert.False(running.Run.IsCompleted, "the job ended");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"the group has [{string.Join(",", committed)}] committed, not [{string.Join(",", expected)}]");
                await Task.Delay(100);
            }
            Assert.False(running.Run.IsCompleted); // committed by a checkpoint, not by a stop
        }

        await WaitForCommittedAsync([2, 2]);
        await _kafka.ProduceAsync(input, [new Input(null, "i j", 0, null), new Input(null, "k l", 0, null), new Input(null, "m n", 1, null)]);
        await WaitForCommittedAsync([4, 3]);

        // The committed offsets are those of a completed checkpoint: the newest one covers as much, so no lag.
        var lag = await QuillAsync("streams", "lag", "--checkpoint-dir", checkpoints, "--group", jobName, "--bootstrap-server", fixture.Broker.BootstrapServers);
        Assert.True(lag.Succeeded, lag.ToString());
        Assert.Equal([["alo", input, "0", "4", "4", "4", "0"], ["alo", input, "1", "3", "3", "3", "0"]], Section(lag.StdOut, "LAG"));
    }
}
