using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Examples.WordCount;
using Quill.Testing;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// Two instances of one exactly-once WordCount job, highly available through the broker's Keeper: the standby takes
/// over when the leader is killed with SIGKILL, from the newest checkpoint named in Keeper, and a read_committed
/// reader sees every count once. Keeper's side (pointers, counter, latch, instances) is read with kazoo.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class HighAvailabilityTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-ha-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    internal static async Task WaitForAsync(Func<bool> condition, string what, params JobProcess[] jobs)
    {
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{what} did not happen within {Kafka.Timeout}\n{string.Join("\n-----\n", jobs.Select(j => j.Output))}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task a_standby_takes_over_when_the_leader_is_killed_and_read_committed_readers_see_every_count_once()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 2);
        await _kafka.CreateTopicAsync(output, 2);
        string[] lines = [.. Enumerable.Range(0, 800).Select(i => $"a{i % 7} b{i % 11} u{i}")];
        var totals = lines.SelectMany(l => l.Split(' ')).CountBy(w => w).ToDictionary(p => p.Key, p => p.Value);
        string[] Arguments(string instance) =>
        [
            "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output, "--parallelism", "2",
            "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "200", "--exactly-once", "--retained-checkpoints", "3",
            "--keeper", Keeper, "--job-id", jobId, "--ha-session-timeout-ms", "8000", "--instance-id", instance,
        ];

        using var first = JobProcess.Start("WordCount", Arguments("first"));
        await WaitForAsync(() => first.Output.Contains("instance first of job " + jobId + ": leader"), "the first instance leading", first);
        using var second = JobProcess.Start("WordCount", Arguments("second"));
        await WaitForAsync(() => second.Output.Contains("instance second of job " + jobId + ": standby"), "the second instance waiting", second);

        var kazoo = new HaKazoo(Keeper);
        string jobRoot = "/quill-streams/" + jobId;
        var before = await kazoo.ReadAsync(jobRoot);
        Assert.Equal(["first", "second"], before.Latch);
        Assert.True(before.LatchEphemeral);
        Assert.Equal("leader", before.RoleOf("first"));
        Assert.Equal("standby", before.RoleOf("second"));

        // The first half, then the kill once a checkpoint covers part of it: the leader dies mid-stream.
        await _kafka.ProduceAsync(input, lines[..400], partitions: 2);
        await WaitForAsync(() => CheckpointProgress.Records(_directory) >= 200, "a checkpoint covering 200 lines", first);
        first.Kill();
        await _kafka.ProduceAsync(input, lines[400..], partitions: 2);

        // The standby leads once the dead leader's session has expired, and carries on from the newest checkpoint.
        await WaitForAsync(() => second.Output.Contains("instance second of job " + jobId + ": leader"), "the standby taking over", second);
        await _kafka.ReadAsync(output, 2, totals.Values.Sum(), second.Exited);
        await WaitForAsync(() => CheckpointProgress.Records(_directory) == lines.Length, "a checkpoint covering every line", second);

        // Every word's counts, read committed: exactly 1, 2, ... up to its total, none twice, none missing.
        _kafka.AssertEveryCountOnce(output, 2, totals);

        // Keeper, while the standby leads: the dead leader's latch node and info went with its session.
        var running = await kazoo.ReadAsync(jobRoot);
        Assert.Equal(["second"], running.Latch);
        Assert.Equal("leader", running.RoleOf("second"));
        Assert.Equal(["second"], running.Instances.Select(i => i[0]));

        // Stopped cleanly (a final checkpoint): three pointers (the retained count) to files that exist, ids in
        // order, the counter past the newest; the latch and info znodes gone with the session.
        Assert.Equal(0, await second.TerminateAsync());
        var after = await kazoo.ReadAsync(jobRoot);
        log.WriteLine($"pointers {string.Join(",", after.CheckpointIds)}, counter {after.Counter} (version {after.CounterVersion})");
        Assert.Empty(after.Latch);
        Assert.Empty(after.Instances);
        Assert.Equal(3, after.Checkpoints.Count);
        Assert.True(after.CheckpointIds.SequenceEqual(after.CheckpointIds.Order()));
        for (int i = 0; i < 3; i++) Assert.True(File.Exists(after.PathOf(i)), after.PathOf(i));
        Assert.True(long.Parse(after.Counter!, System.Globalization.CultureInfo.InvariantCulture) > after.CheckpointIds.Max());
        // Older checkpoints were removed with their pointers (at most one file of the killed leader is left unpointed).
        Assert.InRange(Directory.GetFiles(_directory, "chk-*.json").Length, 3, 4);
    }

    [Fact]
    public async Task a_leader_whose_keeper_connection_is_reset_again_and_again_within_its_session_keeps_leading_and_checkpointing()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string[] lines = ["to be or not to be", "that is the question"];
        await _kafka.ProduceAsync(input, lines);
        // Keeper through a proxy that resets every connection: the client reconnects with the same session.
        await using var proxy = new FaultProxy(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, fixture.Broker.KeeperPort));
        var lost = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Log(string line)
        {
            // A connection lost and regained within the session must not cost the lead (an expired session does).
            if (line.Contains("stopped processing", StringComparison.Ordinal) && !line.Contains("session Expired", StringComparison.Ordinal)) lost.Enqueue(line);
            try
            {
                log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            }
            catch (InvalidOperationException)
            {
                // the test has ended
            }
        }
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = "word-count",
            CheckpointDirectory = _directory,
            CheckpointInterval = TimeSpan.FromMilliseconds(50),
            HighAvailability = new HighAvailabilityOptions
            {
                Keeper = $"127.0.0.1:{proxy.Port}", JobId = jobId, SessionTimeout = TimeSpan.FromSeconds(10), Log = Log,
            },
        });
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 1, 10, running.Run, IsolationLevel.ReadUncommitted);
        var checkpoints = new Checkpoints.CheckpointStorage(_directory);
        for (int i = 0; i < 8; i++)
        {
            long before = checkpoints.LoadLatest()?.Id ?? 0;
            proxy.Cut(CutMode.Reset);
            await Task.Delay(100 + 50 * i);
            proxy.Heal();
            // Checkpoints go on after each reconnect (each needs the id counter and a pointer in Keeper).
            await WaitForAsync(() => checkpoints.LoadLatest()?.Id > before + 1, $"checkpoints after reset {i + 1}");
        }
        Assert.False(running.Run.IsCompleted, "the job ended");
        Assert.Empty(lost);
        await running.StopAsync();
    }

    [Fact]
    public async Task a_leader_frozen_past_its_session_stops_processing_when_it_wakes_and_waits_as_a_standby()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string[] lines = [.. Enumerable.Range(0, 300).Select(i => $"w{i % 5} u{i}")];
        var totals = lines.SelectMany(l => l.Split(' ')).CountBy(w => w).ToDictionary(p => p.Key, p => p.Value);
        string[] Arguments(string instance) =>
        [
            "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output,
            "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "200", "--exactly-once",
            "--keeper", Keeper, "--job-id", jobId, "--ha-session-timeout-ms", "8000", "--instance-id", instance,
        ];
        using var first = JobProcess.Start("WordCount", Arguments("first"));
        await WaitForAsync(() => first.Output.Contains($"instance first of job {jobId}: leader"), "the first instance leading", first);
        using var second = JobProcess.Start("WordCount", Arguments("second"));
        await WaitForAsync(() => second.Output.Contains($"instance second of job {jobId}: standby"), "the second instance waiting", second);
        await _kafka.ProduceAsync(input, lines[..150]);
        await WaitForAsync(() => CheckpointProgress.Records(_directory) >= 150, "a checkpoint covering the first half", first);

        // Frozen until its session has expired and the standby leads; then it wakes with a dead session.
        await first.SignalPauseAsync(true);
        try
        {
            await WaitForAsync(() => second.Output.Contains($"instance second of job {jobId}: leader"), "the standby taking over", second);
        }
        finally
        {
            await first.SignalPauseAsync(false);
        }
        await _kafka.ProduceAsync(input, lines[150..]);

        // The woken leader learns its session is gone, stops processing and joins again, behind the new leader.
        await WaitForAsync(() => first.Output.Contains("instance first: stopped processing"), "the old leader stopping", first);
        await WaitForAsync(() => first.Output.Split('\n').Count(l => l.Contains($"instance first of job {jobId}: standby")) == 2,
            "the old leader waiting as a standby", first);
        var kazoo = await new HaKazoo(Keeper).ReadAsync("/quill-streams/" + jobId);
        Assert.Equal(["second", "first"], kazoo.Latch);
        Assert.Equal("standby", kazoo.RoleOf("first"));

        // Nothing the old leader did after waking reached a read_committed reader twice.
        await _kafka.ReadAsync(output, 1, totals.Values.Sum(), second.Exited);
        await WaitForAsync(() => CheckpointProgress.Records(_directory) == lines.Length, "a checkpoint covering every line", second);
        var records = _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted);
        var counts = records.GroupBy(r => r.Message.Key!).ToDictionary(g => g.Key, g => g.Select(r => int.Parse(r.Message.Value!)).Order().ToList());
        foreach (var (word, total) in totals) Assert.Equal(Enumerable.Range(1, total), counts[word]);
        Assert.Equal(totals.Values.Sum(), records.Count);
    }
    [Fact]
    public async Task a_new_leader_removes_the_checkpoint_file_its_dead_predecessor_never_pointed_to_and_nothing_else()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        string[] lines = ["to be or not to be", "that is the question"];
        await _kafka.ProduceAsync(input, lines);
        StreamJob Job(string instance, TimeSpan interval)
        {
            var job = StreamJob.Create(new StreamJobOptions
            {
                BootstrapServers = fixture.Broker.BootstrapServers,
                JobName = jobId,
                CheckpointDirectory = _directory,
                CheckpointInterval = interval,
                HighAvailability = new HighAvailabilityOptions { Keeper = Keeper, InstanceId = instance, SessionTimeout = TimeSpan.FromSeconds(8) },
            });
            WordCountJob.Define(job, input, output);
            return job;
        }

        // The first leader checkpoints everything, then stops.
        await using (var first = new RunningJob(Job("first", TimeSpan.FromMilliseconds(200))))
        {
            await WaitForAsync(() => CheckpointProgress.Records(_directory) == lines.Length, "a checkpoint covering both lines");
            await first.StopAsync();
        }
        string jobRoot = "/quill-streams/" + jobId;
        var kazoo = new HaKazoo(Keeper);
        var before = await kazoo.ReadAsync(jobRoot);
        long counter = long.Parse(before.Counter!, System.Globalization.CultureInfo.InvariantCulture);

        // As a leader that died after taking ids `counter` and `counter + 1`, writing the first's file and half of the
        // second's, before it could create either pointer; a savepoint sits in the same directory.
        string unpointed = Path.Combine(_directory, $"chk-{counter:D19}.json");
        string halfWritten = Path.Combine(_directory, $"chk-{counter + 1:D19}.json.tmp");
        File.Copy(before.PathOf(before.Checkpoints.Count - 1), unpointed);
        File.WriteAllText(halfWritten, "{");
        string savepoint = Path.Combine(_directory, $"savepoint-{jobId}-{counter}-abcdef");
        Directory.CreateDirectory(savepoint);
        File.Copy(before.PathOf(before.Checkpoints.Count - 1), Path.Combine(savepoint, "_metadata"));
        var set = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15)
            zk.set(sys.argv[2] + "/checkpoint-counter", sys.argv[3].encode())
            zk.stop(); zk.close()
            """, Keeper, jobRoot, (counter + 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(set.Succeeded, set.ToString());

        // The next leader (no periodic checkpoint in the way): once it runs, a savepoint is its first checkpoint.
        var secondJob = Job("second", TimeSpan.FromMinutes(10));
        await using var second = new RunningJob(secondJob);
        string? taken = null;
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (taken is null)
        {
            try
            {
                taken = await secondJob.TriggerSavepointAsync(Path.Combine(_directory, "savepoints"));
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline && !second.Run.IsCompleted)
            {
                await Task.Delay(50); // not leading (running) yet
            }
        }

        Assert.False(File.Exists(unpointed), unpointed);
        Assert.False(File.Exists(halfWritten), halfWritten);
        Assert.True(File.Exists(Path.Combine(savepoint, "_metadata")));
        var after = await kazoo.ReadAsync(jobRoot);
        // The pointed files stay (the oldest goes by the retained count, as always), the new leader's ids go on.
        Assert.Equal([before.CheckpointIds[^1], counter + 2], after.CheckpointIds);
        for (int i = 0; i < after.Checkpoints.Count; i++) Assert.True(File.Exists(after.PathOf(i)), after.PathOf(i));
    }
}
