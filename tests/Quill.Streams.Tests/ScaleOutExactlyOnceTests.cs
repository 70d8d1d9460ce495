using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// WordCount spread over several processes (scale-out) and exactly-once: the followers' sink tasks write through the
/// leader, into the job's one transaction per checkpoint. WordCount writes every word's running count, so a
/// read_committed reader must see, for each word, the counts 1 to its total, each exactly once: a count written twice
/// (output of a replay committed again) or missing (output lost with a failed generation) breaks the set. The
/// instances are real processes killed with SIGKILL, followers and leaders, and started again.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ScaleOutExactlyOnceTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-scaleout-eos-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private string[] Arguments(string input, string output, string jobId, string instance) =>
    [
        "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output, "--parallelism", "4",
        "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "200", "--exactly-once",
        "--keeper", Keeper, "--job-id", jobId, "--ha-session-timeout-ms", "4000", "--instance-id", instance, "--scale-out",
    ];

    private static Dictionary<string, int[]> SubtasksOf(JsonElement assignment) => ScaleOutAssignments.SubtasksOf(assignment);

    private Task<JsonElement> WaitForAssignmentAsync(HaKazoo kazoo, string jobRoot, string[] instances, params JobProcess[] jobs) =>
        ScaleOutAssignments.WaitForAsync(kazoo, jobRoot, instances, log, jobs);

    /// <summary>Every (word, count) pair a read_committed reader sees now, as "word count", sorted.</summary>
    private List<string> CommittedPairs(string output) =>
        [.. _kafka.ReadToEnd(output, 2, IsolationLevel.ReadCommitted).Select(r => $"{r.Message.Key} {r.Message.Value}").Order(StringComparer.Ordinal)];

    /// <summary>What exactly-once output must be: each word's counts 1 to its total, once each, as "word count", sorted.</summary>
    private static List<string> ExpectedPairs(Dictionary<string, long> totals) =>
        [.. totals.SelectMany(t => Enumerable.Range(1, (int)t.Value).Select(c => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {c}")))
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// Waits until a read_committed reader sees every word's total (the job has committed the output of all the input),
    /// then checks the whole committed output: every count of every word exactly once.
    /// </summary>
    private async Task AssertExactlyOnceAsync(string output, Dictionary<string, long> totals, Func<IEnumerable<JobProcess>> jobs)
    {
        var highest = new Dictionary<string, long>();
        await HighAvailabilityTests.WaitForAsync(() =>
        {
            highest = _kafka.ReadToEnd(output, 2, IsolationLevel.ReadCommitted)
                .GroupBy(r => r.Message.Key!).ToDictionary(g => g.Key, g => g.Max(r => long.Parse(r.Message.Value!, CultureInfo.InvariantCulture)));
            return totals.All(t => highest.GetValueOrDefault(t.Key) >= t.Value);
        }, "every word's total committed", [.. jobs()]);
        var committed = CommittedPairs(output);
        var expected = ExpectedPairs(totals);
        var twice = committed.CountBy(p => p).Where(p => p.Value > 1).Select(p => $"{p.Key} x{p.Value}").Take(10).ToList();
        var missing = expected.Except(committed).Take(10).ToList();
        var extra = committed.Except(expected).Take(10).ToList();
        log.WriteLine($"{committed.Count} committed pairs, {expected.Count} expected; twice: [{string.Join(", ", twice)}]; missing: [{string.Join(", ", missing)}]; extra: [{string.Join(", ", extra)}]");
        Assert.Empty(twice);
        Assert.Empty(missing);
        Assert.Empty(extra);
        Assert.Equal(expected, committed);
    }

    /// <summary>Writes the lines 40 at a time, never more than 240 ahead of what the newest checkpoint covers.</summary>
    private Task FeedAsync(string topic, string[] lines, CancellationToken stop) => Task.Run(async () =>
    {
        for (int next = 0; next < lines.Length; next += 40)
        {
            while (next - CheckpointProgress.Records(_directory) > 240) await Task.Delay(20, stop);
            var batch = lines[next..Math.Min(next + 40, lines.Length)];
            await _kafka.ProduceAsync(topic, batch.Select((l, i) => new Input(null, l, (next + i) % 4, null)));
        }
    }, stop);

    [Fact]
    public async Task three_instances_exactly_once_give_a_read_committed_reader_every_count_of_every_word_once()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc-eos");
        await _kafka.CreateTopicAsync(input, 4);
        await _kafka.CreateTopicAsync(output, 2);
        string[] lines = [.. Enumerable.Range(0, 900).Select(i => $"a{i % 7} b{i % 13} c{i % 101}")];
        var totals = CheckpointProgress.WordTotals(lines);

        using var a = JobProcess.Start("WordCount", Arguments(input, output, jobId, "a"));
        using var b = JobProcess.Start("WordCount", Arguments(input, output, jobId, "b"));
        using var c = JobProcess.Start("WordCount", Arguments(input, output, jobId, "c"));
        var assignment = await WaitForAssignmentAsync(new HaKazoo(Keeper), "/quill-streams/" + jobId, ["a", "b", "c"], a, b, c);
        string leader = assignment.GetProperty("leader").GetString()!;
        // Followers run subtasks of the keyed stage, so some counts are made there and written through the leader.
        Assert.Equal(3, SubtasksOf(assignment).Count);

        await _kafka.ProduceAsync(input, lines, partitions: 4);
        await AssertExactlyOnceAsync(output, totals, () => [a, b, c]);
        // Every transaction that holds output has ended: none is left open in the log (a transaction of a follower's own
        // that nobody commits would hold read_committed readers back here).
        using var open = new OpenTransactions(fixture.Broker.BootstrapServers, output, 2);
        Assert.All(open.Ranges(), r => Assert.True(r.IsEmpty, $"partition {r.Partition}: [{r.From}, {r.To}) still open"));
        log.WriteLine($"leader {leader}");
    }

    [Fact]
    public async Task a_killed_follower_and_a_killed_leader_each_restarted_leave_every_count_of_every_word_committed_once()
    {
        var clock = Stopwatch.StartNew();
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc-eos");
        await _kafka.CreateTopicAsync(input, 4);
        await _kafka.CreateTopicAsync(output, 2);
        string[] lines = [.. Enumerable.Range(0, 1200).Select(i => $"a{i % 7} b{i % 13} c{i % 101}")];
        var totals = CheckpointProgress.WordTotals(lines);
        var kazoo = new HaKazoo(Keeper);
        string jobRoot = "/quill-streams/" + jobId;
        var jobs = new Dictionary<string, JobProcess>();
        JobProcess Start(string instance) => jobs[instance] = JobProcess.Start("WordCount", Arguments(input, output, jobId, instance));
        IEnumerable<JobProcess> Running() => jobs.Values;
        using var open = new OpenTransactions(fixture.Broker.BootstrapServers, output, 2);
        using var stopFeeding = new CancellationTokenSource();
        try
        {
            var a = Start("a");
            await HighAvailabilityTests.WaitForAsync(() => a.Output.Contains($"instance a of job {jobId}: leader"), "a leading", a);
            Start("b");
            await WaitForAssignmentAsync(kazoo, jobRoot, ["a", "b"], [.. Running()]);
            var feeding = FeedAsync(input, lines, stopFeeding.Token);

            // kill -9 of the follower while counts sit in an open transaction, then a new process in its place.
            await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) >= 250, "a checkpoint covering 250 lines", [.. Running()]);
            await HighAvailabilityTests.WaitForAsync(() => open.Ranges().Any(r => !r.IsEmpty), "counts in an open transaction", [.. Running()]);
            jobs["b"].Kill();
            jobs.Remove("b");
            log.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed follower b at {CheckpointProgress.Records(_directory)} lines checkpointed");
            await WaitForAssignmentAsync(kazoo, jobRoot, ["a"], [.. Running()]);
            Start("b2");
            await WaitForAssignmentAsync(kazoo, jobRoot, ["a", "b2"], [.. Running()]);

            // kill -9 of the leader, likewise: b2 takes over once a's session expires, and a new process joins it.
            long covered = CheckpointProgress.Records(_directory);
            await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) >= Math.Max(650, covered + 200),
                "a checkpoint covering 650 lines, past the restored one", [.. Running()]);
            await HighAvailabilityTests.WaitForAsync(() => open.Ranges().Any(r => !r.IsEmpty), "counts in an open transaction", [.. Running()]);
            jobs["a"].Kill();
            jobs.Remove("a");
            log.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed leader a at {CheckpointProgress.Records(_directory)} lines checkpointed");
            var afterLeader = await WaitForAssignmentAsync(kazoo, jobRoot, ["b2"], [.. Running()]);
            Assert.Equal("b2", afterLeader.GetProperty("leader").GetString());
            Start("a2");
            await WaitForAssignmentAsync(kazoo, jobRoot, ["a2", "b2"], [.. Running()]);

            await feeding;
            await AssertExactlyOnceAsync(output, totals, Running);
            log.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: done");
        }
        finally
        {
            stopFeeding.Cancel();
            foreach (var job in jobs.Values) job.Dispose();
        }
    }
}
