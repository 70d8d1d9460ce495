using Quill.Broker.Compat.Tests;
using Quill.Streams.Checkpoints;

namespace Quill.Streams.Tests;

/// <summary>
/// The WordCount example run with nothing but its three arguments, as a newcomer runs it: exactly-once, checkpointing
/// into the user's data folder (here a temp folder, through XDG_DATA_HOME), and a restart after SIGKILL carries on.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class WordCountCommandLineTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _dataHome = Path.Combine(Path.GetTempPath(), "quill-data-home-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_dataHome)) Directory.Delete(_dataHome, recursive: true);
    }

    [Fact]
    public async Task word_count_with_only_its_three_arguments_writes_each_count_once_and_a_restart_after_sigkill_carries_on_from_its_checkpoint()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 2);
        string[][] batches = [.. Enumerable.Range(0, 3).Select(b => Enumerable.Range(b * 300, 300).Select(i => $"w{i % 5} x{i % 13} u{i}").ToArray())];
        var totals = batches.SelectMany(b => b).SelectMany(l => l.Split(' ')).CountBy(w => w).ToDictionary(p => p.Key, p => p.Value);
        var environment = new Dictionary<string, string> { ["XDG_DATA_HOME"] = _dataHome };
        string[] arguments = ["--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output];
        string checkpoints = Path.Combine(_dataHome, "quill", "streams", "word-count");

        await _kafka.ProduceAsync(input, batches[0], partitions: 2);
        var job = JobProcess.Start("WordCount", environment, arguments);
        try
        {
            await CheckpointProgress.WaitUntilCoveringAsync(checkpoints, 300, job);
            Assert.NotNull(new CheckpointStorage(checkpoints).LoadLatest()!.Transaction); // the checkpoint commits a transaction: exactly-once

            // Killed while it works through the second batch (a checkpoint comes every 5 s: its output is most likely
            // in an open transaction), then started again with the same command line.
            await _kafka.ProduceAsync(input, batches[1], partitions: 2);
            job.Kill();
            job.Dispose();
            job = JobProcess.Start("WordCount", environment, arguments);
            await _kafka.ProduceAsync(input, batches[2], partitions: 2);
            await _kafka.ReadAsync(output, 2, totals.Values.Sum(), job.Exited);
            await CheckpointProgress.WaitUntilCoveringAsync(checkpoints, 900, job);
        }
        finally
        {
            job.Dispose();
        }

        _kafka.AssertEveryCountOnce(output, 2, totals);
    }

    [Fact]
    public async Task instances_under_keeper_without_a_checkpoint_directory_refuse_to_start_saying_why()
    {
        var environment = new Dictionary<string, string> { ["XDG_DATA_HOME"] = _dataHome };
        using var job = JobProcess.Start("WordCount", environment, "--bootstrap-server", fixture.Broker.BootstrapServers,
            "--input", Kafka.NewTopic("lines"), "--output", Kafka.NewTopic("counts"), "--keeper", $"127.0.0.1:{fixture.Broker.KeeperPort}");
        // A standby restores from the leader's checkpoints: a folder local to each instance would not do.
        var exited = await Assert.ThrowsAsync<InvalidOperationException>(() => job.Exited.WaitAsync(Kafka.Timeout));
        Assert.Contains("--keeper needs --checkpoint-dir", exited.Message);
        Assert.False(Directory.Exists(Path.Combine(_dataHome, "quill")));
    }
}
