using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// The WindowedCounts example (per-key counts in tumbling event-time windows), exactly-once, killed with SIGKILL again
/// and again at seeded random points, some of them while fired windows' results sit in an open transaction, and
/// restarted (or, with two instances, replaced by the standby, the window state then on disk): a read_committed reader
/// ends with exactly one result per key and window, each with the count the input makes, none missing, none extra.
/// <para>
/// The input has explicit timestamps over 24 windows of 1 s and 8 keys, written to 3 partitions a little ahead of the
/// job, each partition's records up to 300 ms out of order (the job's bound is 400 ms, so none is late, in any run: a
/// restored job starts without a watermark and rebuilds it from the records it reads again). A last record without a key
/// per partition, far in the future, makes every window fire. The seed is new each run, written to the test output
/// and into any failure's message; QUILL_WINDOW_CRASH_SEED=N replays a run.
/// </para>
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class WindowCrashTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    private const int Partitions = 3, Keys = 8, WindowMs = 1000, OutOfOrdernessMs = 400, MaxShiftMs = 300, SpacingMs = 10;
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-window-crash-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The input (records, then one keyless record per partition far in the future) and the results it must give.</summary>
    private sealed record Workload(Input[] Records, Input[] Ends, List<string> Expected);

    /// <summary>
    /// Record i: partition i mod 3, a key of 8, time base + 10 ms * i, one in five moved back by up to 300 ms (behind the
    /// highest timestamp of its partition so far by at most that). Results as "key start end count", sorted.
    /// </summary>
    private static Workload Generate(Random random, int count)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long start = now - now % WindowMs;
        var records = new Input[count];
        for (int i = 0; i < count; i++)
        {
            long time = start + (long)i * SpacingMs;
            if (random.Next(5) == 0) time -= random.Next(1, MaxShiftMs + 1);
            records[i] = new Input($"k{random.Next(Keys)}", $"event {i}", i % Partitions, time);
        }
        long end = start + (long)count * SpacingMs + 10L * WindowMs;
        var ends = Enumerable.Range(0, Partitions).Select(p => new Input(null, "end", p, end)).ToArray();
        var expected = records.GroupBy(r => (Key: r.Key!, Start: r.Timestamp!.Value - r.Timestamp.Value % WindowMs))
            .Select(g => Result(g.Key.Key, g.Key.Start, g.Key.Start + WindowMs, g.Count())).Order(StringComparer.Ordinal).ToList();
        return new Workload(records, ends, expected);
    }

    private static string Result(string key, long start, long end, long count) =>
        string.Create(CultureInfo.InvariantCulture, $"{key} {start} {end} {count}");

    /// <summary>
    /// Where the kills come, in records the newest checkpoint covers: one in each of <paramref name="kills"/> equal
    /// stretches of the input, at a random place in its first half.
    /// </summary>
    private static int[] KillPoints(Random random, int kills, int records)
    {
        int stretch = (records - 400) / kills;
        return [.. Enumerable.Range(0, kills).Select(k => 200 + k * stretch + random.Next(stretch / 2))];
    }

    /// <summary>Writes the records 30 at a time, never more than 300 ahead of what the newest checkpoint covers.</summary>
    private Task FeedAsync(string topic, Input[] records, CancellationToken stop) => Task.Run(async () =>
    {
        for (int next = 0; next < records.Length; next += 30)
        {
            while (next - CheckpointProgress.Records(_directory) > 300) await Task.Delay(20, stop);
            await _kafka.ProduceAsync(topic, records[next..Math.Min(next + 30, records.Length)]);
        }
    }, stop);

    private static async Task WaitForAsync(Func<bool> condition, string what, IEnumerable<JobProcess> jobs) =>
        await HighAvailabilityTests.WaitForAsync(condition, what, [.. jobs]);

    /// <summary>
    /// Before a kill: the newest checkpoint covers at least <paramref name="records"/> records; then either windows have
    /// fired and their results are written but not committed (output in an open transaction), or a random 0-250 ms passed.
    /// </summary>
    private async Task<string> ReachKillPointAsync(long records, bool whileFiring, Random random, OpenTransactions open, IEnumerable<JobProcess> jobs)
    {
        await WaitForAsync(() => CheckpointProgress.Records(_directory) >= records, $"a checkpoint covering {records} records", jobs);
        if (!whileFiring)
        {
            int delay = random.Next(0, 251);
            await Task.Delay(delay);
            return $"{delay} ms after a checkpoint covering {records} records";
        }
        await WaitForAsync(() => open.Ranges().Any(r => !r.IsEmpty), "fired windows' results in an open transaction", jobs);
        return $"after a checkpoint covering {records} records, with window results in an open transaction";
    }

    /// <summary>What a read_committed reader sees of the output once the job is stopped, as sorted "key start end count".</summary>
    private List<string> CommittedResults(string output)
    {
        var records = _kafka.ReadToEnd(output, 2, IsolationLevel.ReadCommitted);
        return [.. records.Select(r =>
        {
            using var json = JsonDocument.Parse(r.Message.Value!);
            var value = json.RootElement;
            string key = value.GetProperty("Key").GetString()!;
            long end = value.GetProperty("End").GetInt64();
            Assert.Equal(key, r.Message.Key);
            Assert.Equal(end - 1, r.Message.Timestamp.UnixTimestampMs); // stamped with the window's last millisecond
            return Result(key, value.GetProperty("Start").GetInt64(), end, value.GetProperty("Count").GetInt64());
        }).Order(StringComparer.Ordinal)];
    }

    private string[] Arguments(string input, string output) =>
    [
        "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output, "--parallelism", "2",
        "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "100", "--exactly-once",
        "--window-ms", WindowMs.ToString(CultureInfo.InvariantCulture),
        "--out-of-orderness-ms", OutOfOrdernessMs.ToString(CultureInfo.InvariantCulture), "--idleness-ms", "0",
    ];

    [Fact]
    public async Task windowed_counts_killed_at_random_points_and_restarted_give_each_key_and_window_its_count_once_for_read_committed_readers()
    {
        var seed = new CrashSeed("QUILL_WINDOW_CRASH_SEED", log);
        await seed.RunAsync(async () =>
        {
            var clock = Stopwatch.StartNew();
            var random = new Random(seed.Value);
            string input = Kafka.NewTopic("events"), output = Kafka.NewTopic("window-counts");
            await _kafka.CreateTopicAsync(input, Partitions);
            await _kafka.CreateTopicAsync(output, 2);
            var workload = Generate(random, 2400);
            int[] killPoints = KillPoints(random, 4, workload.Records.Length);
            string[] arguments = Arguments(input, output);

            using var stopFeeding = new CancellationTokenSource();
            var feeding = FeedAsync(input, workload.Records, stopFeeding.Token);
            using var open = new OpenTransactions(fixture.Broker.BootstrapServers, output, 2);
            var job = JobProcess.Start("WindowedCounts", arguments);
            try
            {
                long covered = 0;
                for (int k = 0; k < killPoints.Length; k++)
                {
                    // Each run gets past its restored checkpoint before it is killed.
                    long target = Math.Min(Math.Max(killPoints[k], covered + 100), workload.Records.Length - 100);
                    string when = await ReachKillPointAsync(target, whileFiring: k % 2 == 0, random, open, [job]);
                    job.Kill();
                    covered = CheckpointProgress.Records(_directory);
                    log.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: kill {k + 1} {when}");
                    job.Dispose();
                    job = JobProcess.Start("WindowedCounts", arguments);
                }
                await feeding;
                await _kafka.ProduceAsync(input, workload.Ends);
                await _kafka.ReadAsync(output, 2, workload.Expected.Count, job.Exited);
                Assert.Equal(0, await job.TerminateAsync()); // a clean stop commits whatever is still open
            }
            finally
            {
                stopFeeding.Cancel(); // a failure above leaves the feeding loop waiting for a checkpoint
                job.Dispose();
            }

            Assert.Equal(workload.Expected, CommittedResults(output));
            log.WriteLine($"seed {seed.Value}: {killPoints.Length} kills, {workload.Expected.Count} results, {clock.Elapsed.TotalSeconds:F1} s");
        });
    }

    /// <summary>The role an instance's output says it has now: leader, standby, or null (starting, or stopped processing).</summary>
    internal static string? Role(JobProcess job, string instance, string jobId)
    {
        string text = job.Output;
        int leader = text.LastIndexOf($"instance {instance} of job {jobId}: leader", StringComparison.Ordinal);
        int standby = text.LastIndexOf($"instance {instance} of job {jobId}: standby", StringComparison.Ordinal);
        int lost = text.LastIndexOf($"instance {instance}: ", StringComparison.Ordinal);
        int last = Math.Max(leader, Math.Max(standby, lost));
        return last < 0 || last == lost ? null : last == leader ? "leader" : "standby";
    }

    internal static int LeaderLines(JobProcess job, string instance, string jobId) =>
        job.Output.Split('\n').Count(l => l.Contains($"instance {instance} of job {jobId}: leader", StringComparison.Ordinal));

    [Fact]
    public async Task windowed_counts_on_two_instances_whose_leader_is_killed_again_and_again_give_each_key_and_window_its_count_once()
    {
        var seed = new CrashSeed("QUILL_WINDOW_CRASH_SEED", log);
        await seed.RunAsync(async () =>
        {
            var clock = Stopwatch.StartNew();
            var random = new Random(seed.Value);
            string input = Kafka.NewTopic("events"), output = Kafka.NewTopic("window-counts"), jobId = Kafka.NewTopic("windows");
            await _kafka.CreateTopicAsync(input, Partitions);
            await _kafka.CreateTopicAsync(output, 2);
            var workload = Generate(random, 1800);
            int[] killPoints = KillPoints(random, 3, workload.Records.Length);
            // Window state in RocksDB here (each process its own database: the checkpoints are what a standby restores from).
            // Each process its own instance id, as a supervisor's restart gets (the default id has the pid in it): the killed
            // one's latch and info znodes stay until its session expires.
            int started = 0;
            var instances = new List<(string Name, JobProcess Job)>();
            (string Name, JobProcess Job) Start()
            {
                string name = $"i{++started}";
                var job = JobProcess.Start("WindowedCounts", [.. Arguments(input, output), "--keeper", Keeper, "--job-id", jobId,
                    "--ha-session-timeout-ms", "4000", "--instance-id", name,
                    "--state-backend", "disk", "--state-dir", Path.Combine(_directory, "state-" + name)]);
                instances.Add((name, job));
                return (name, job);
            }
            IEnumerable<JobProcess> Jobs() => instances.Select(i => i.Job);

            using var stopFeeding = new CancellationTokenSource();
            using var open = new OpenTransactions(fixture.Broker.BootstrapServers, output, 2);
            try
            {
                // Both at once: whichever joins the election first leads.
                Start();
                Start();
                var feeding = FeedAsync(input, workload.Records, stopFeeding.Token);
                await WaitForAsync(() => instances.Select(i => Role(i.Job, i.Name, jobId)).Order().SequenceEqual(["leader", "standby"]),
                    "one instance leading and the other waiting", Jobs());

                long covered = 0;
                for (int k = 0; k < killPoints.Length; k++)
                {
                    long target = Math.Min(Math.Max(killPoints[k], covered + 100), workload.Records.Length - 100);
                    string when = await ReachKillPointAsync(target, whileFiring: k % 2 == 0, random, open, Jobs());
                    // Whoever leads now (a leader that lost its session under load may have handed over already).
                    await WaitForAsync(() => instances.Count(i => Role(i.Job, i.Name, jobId) == "leader") == 1, "one leader", Jobs());
                    var leader = instances.Single(i => Role(i.Job, i.Name, jobId) == "leader");
                    var standby = instances.Single(i => i != leader);
                    int standbyLeads = LeaderLines(standby.Job, standby.Name, jobId);
                    leader.Job.Kill();
                    covered = CheckpointProgress.Records(_directory);
                    instances.Remove(leader);
                    leader.Job.Dispose();
                    log.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: killed leader {leader.Name} {when}");
                    var restarted = Start();
                    await WaitForAsync(() => LeaderLines(standby.Job, standby.Name, jobId) > standbyLeads, $"standby {standby.Name} taking over", Jobs());
                    await WaitForAsync(() => Role(restarted.Job, restarted.Name, jobId) == "standby", $"{restarted.Name} waiting as the standby", Jobs());
                    log.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {standby.Name} leads, {restarted.Name} waits");
                }
                await feeding;
                await _kafka.ProduceAsync(input, workload.Ends);
                await _kafka.ReadAsync(output, 2, workload.Expected.Count, Task.WhenAny(Jobs().Select(j => j.Exited)).Unwrap());

                // The standby first (it just stops), then the leader (a clean stop commits whatever is still open).
                foreach (var instance in instances.OrderBy(i => Role(i.Job, i.Name, jobId) == "leader").ToList())
                    Assert.Equal(0, await instance.Job.TerminateAsync());
            }
            finally
            {
                stopFeeding.Cancel();
                foreach (var instance in instances) instance.Job.Dispose();
            }

            Assert.Equal(workload.Expected, CommittedResults(output));
            log.WriteLine($"seed {seed.Value}: {killPoints.Length} leader kills, {workload.Expected.Count} results, {clock.Elapsed.TotalSeconds:F1} s");
        });
    }
}
