using Quill.Broker.Compat.Tests;

namespace Quill.Streams.Tests;

/// <summary>Checkpoints taken by a running job, and a job killed with SIGKILL restarting from the newest.</summary>
[Collection(BrokerCollection.Name)]
public sealed class CheckpointTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task word_count_killed_with_sigkill_restarts_from_its_checkpoint_and_counts_on_with_a_different_parallelism()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 1);
        string[] before = ["to be or not to be", "that is the question", "to be"];
        string[] after = ["be quick", "or be dead", "question"];
        string[] Arguments(int parallelism) =>
        [
            "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output,
            "--parallelism", $"{parallelism}", "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "100", "--at-least-once",
        ];

        await _kafka.ProduceAsync(input, before, partitions: 2);
        using (var first = JobProcess.Start("WordCount", Arguments(2)))
        {
            await _kafka.ReadAsync(output, 1, CheckpointProgress.WordTotals(before).Values.Sum(x => (int)x), first.Exited);
            await CheckpointProgress.WaitUntilCoveringAsync(_directory, before.Length, first);
            first.Kill();
        }

        await _kafka.ProduceAsync(input, after, partitions: 2);
        var totals = CheckpointProgress.WordTotals([.. before, .. after]);
        using var second = JobProcess.Start("WordCount", Arguments(3));
        var records = await _kafka.ReadAsync(output, 1, (int)totals.Values.Sum(), second.Exited);

        // The restored counts go on where the checkpoint left them (a fresh job would count "be" from 1 again), and
        // nothing was counted twice: every word's outputs are exactly 1, 2, ... up to its total over both runs.
        var counts = records.GroupBy(r => r.Message.Key!)
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.Offset.Value).Select(r => long.Parse(r.Message.Value!)).ToList());
        Assert.Equal(totals.Keys.Order(), counts.Keys.Order());
        foreach (var (word, total) in totals) Assert.Equal(Enumerable.Range(1, (int)total).Select(i => (long)i), counts[word]);
    }
}
