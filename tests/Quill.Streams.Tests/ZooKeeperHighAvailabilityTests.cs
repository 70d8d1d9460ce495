using Quill.Broker.Compat.Tests;
using Quill.Testing;

namespace Quill.Streams.Tests;

/// <summary>
/// High availability with Apache ZooKeeper 3.8 (the Debian package) in place of Keeper: two exactly-once WordCount
/// instances elect a leader there, keep their checkpoint pointers and counter there, and the standby takes over when
/// the leader is killed with SIGKILL; a read_committed reader sees every count once.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ZooKeeperHighAvailabilityTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-zk-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task on_apache_zookeeper_a_standby_takes_over_from_a_killed_leader_and_every_count_is_written_once()
    {
        // A short tick so that a 4 s session is within ZooKeeper's bounds (2 to 20 ticks).
        await using var zookeeper = await ApacheZooKeeperServer.StartAsync(tickTime: 500);
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 2);
        string[] lines = [.. Enumerable.Range(0, 600).Select(i => $"a{i % 7} b{i % 11} u{i}")];
        var totals = lines.SelectMany(l => l.Split(' ')).CountBy(w => w).ToDictionary(p => p.Key, p => p.Value);
        string[] Arguments(string instance) =>
        [
            "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output, "--parallelism", "2",
            "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "200",
            "--keeper", zookeeper.ConnectString, "--job-id", jobId, "--ha-session-timeout-ms", "4000", "--instance-id", instance,
        ];

        using var first = JobProcess.Start("WordCount", Arguments("first"));
        await HighAvailabilityTests.WaitForAsync(() => first.Output.Contains($"instance first of job {jobId}: leader"), "the first instance leading", first);
        using var second = JobProcess.Start("WordCount", Arguments("second"));
        await HighAvailabilityTests.WaitForAsync(() => second.Output.Contains($"instance second of job {jobId}: standby"), "the second instance waiting", second);

        await _kafka.ProduceAsync(input, lines[..300], partitions: 2);
        await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) >= 150, "a checkpoint covering 150 lines", first);
        // The pointers and the counter are in ZooKeeper, as kazoo reads them there.
        var kazoo = new HaKazoo(zookeeper.ConnectString);
        string jobRoot = "/quill-streams/" + jobId;
        var leading = await kazoo.ReadAsync(jobRoot);
        Assert.Equal(["first", "second"], leading.Latch);
        Assert.NotEmpty(leading.Checkpoints);
        Assert.True(File.Exists(leading.PathOf(leading.Checkpoints.Count - 1)), leading.PathOf(leading.Checkpoints.Count - 1));

        first.Kill();
        await _kafka.ProduceAsync(input, lines[300..], partitions: 2);
        await HighAvailabilityTests.WaitForAsync(() => second.Output.Contains($"instance second of job {jobId}: leader"), "the standby taking over", second);
        await _kafka.ReadAsync(output, 2, totals.Values.Sum(), second.Exited);
        await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) == lines.Length, "a checkpoint covering every line", second);

        _kafka.AssertEveryCountOnce(output, 2, totals);
        var taken = await kazoo.ReadAsync(jobRoot);
        Assert.Equal(["second"], taken.Latch);
        Assert.True(taken.CheckpointIds.Max() > leading.CheckpointIds.Max());
    }
}
