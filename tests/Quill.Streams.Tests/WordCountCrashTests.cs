using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Checkpoints;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// The WordCount example, exactly-once, killed with SIGKILL again and again at seeded random points and restarted (or,
/// with two instances under high availability, its leader killed and the standby taking over, the killed one started
/// again as the new standby): a read_committed reader ends with every word's counts exactly 1, 2, ... up to its total,
/// each once. The input is written a little ahead of the job, so that the job keeps reading and writing while it is
/// killed (at most 200 lines past the newest checkpoint, at most 100 lines a second).
/// <para>
/// Each kill comes once the restarted run has got past its restored checkpoint (a checkpoint covers a point of the input
/// drawn at random in each stretch of it, and at least 100 records more than the one before the kill), then either a
/// random 0-1500 ms later, or as soon as a transaction holds output on the broker. The seed is new each run and written
/// to the test output and into any failure's message: QUILL_WORDCOUNT_CRASH_SEED=N replays a run.
/// QUILL_WORDCOUNT_CRASH_KILLS=N is the long form: N kills (default 5) of the single instance and N leader kills
/// (default 3) with two instances, the input growing with it.
/// </para>
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class WordCountCrashTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    private const string SeedVariable = "QUILL_WORDCOUNT_CRASH_SEED", KillsVariable = "QUILL_WORDCOUNT_CRASH_KILLS";
    private const int Partitions = 2, MaxDelayMs = 1500;
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-wordcount-crash-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private void Log(string line) => log.WriteLine($"{_clock.Elapsed.TotalSeconds,6:F1} s: {line}");

    /// <summary>
    /// Three words a line: one of 7 frequent words (long runs of counts), one of 13 drawn at random, and one word of its
    /// own.
    /// </summary>
    private static string[] Lines(Random random, int count) =>
        [.. Enumerable.Range(0, count).Select(i => $"a{i % 7} b{random.Next(13)} u{i}")];

    /// <summary>Where the kills come, in input records the newest checkpoint covers: one at random in the first half of each of <paramref name="kills"/> stretches.</summary>
    private static int[] KillPoints(Random random, int kills, int records)
    {
        int stretch = (records - 400) / kills;
        return [.. Enumerable.Range(0, kills).Select(k => 200 + k * stretch + random.Next(stretch / 2))];
    }

    /// <summary>
    /// Writes the lines 20 at a time over the partitions, never more than 200 ahead of what the newest checkpoint covers
    /// and at most 100 a second: on a fast machine, too, the job is still reading (and writing output) at the last kill
    /// points, however far a random delay lets it go on.
    /// </summary>
    private Task FeedAsync(string topic, string[] lines, CancellationToken stop) => Task.Run(async () =>
    {
        for (int next = 0; next < lines.Length; next += 20)
        {
            var batch = Stopwatch.StartNew();
            while (next - CheckpointProgress.Records(_directory) > 200) await Task.Delay(20, stop);
            int from = next;
            await _kafka.ProduceAsync(topic, lines[from..Math.Min(from + 20, lines.Length)].Select((l, i) => new Input(null, l, (from + i) % Partitions, null)));
            int rest = 200 - (int)batch.ElapsedMilliseconds;
            if (rest > 0) await Task.Delay(rest, stop);
        }
    }, stop);

    /// <summary>The newest checkpoint's id (0 before the first, or when the file listed was just replaced).</summary>
    private long LatestCheckpointId()
    {
        try
        {
            return new CheckpointStorage(_directory).LoadLatest()?.Id ?? 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Before kill <paramref name="k"/>: a checkpoint covers at least <paramref name="records"/> records (written to the
    /// output with how long after <paramref name="run"/> started); then, every third kill from the second on, output in
    /// an open transaction, else a random delay.
    /// </summary>
    private async Task<string> ReachKillPointAsync(int k, long records, Stopwatch run, Random random, OpenTransactions open, JobProcess[] jobs)
    {
        await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) >= records, $"a checkpoint covering {records} records", jobs);
        Log($"a checkpoint covers {records} records, {run.Elapsed.TotalSeconds:F1} s after the run started");
        if (k % 3 != 1)
        {
            int delay = random.Next(0, MaxDelayMs + 1);
            await Task.Delay(delay);
            return $"{delay} ms after a checkpoint covering {records} records";
        }
        await HighAvailabilityTests.WaitForAsync(() => open.Ranges().Any(r => !r.IsEmpty), "output in an open transaction", jobs);
        return $"after a checkpoint covering {records} records, with output in an open transaction";
    }

    private string[] Arguments(string input, string output) =>
    [
        "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output, "--parallelism", "2",
        "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "100", "--exactly-once",
    ];

    /// <summary>
    /// What a read_committed reader sees of the output, stopped job: every word's counts exactly 1, 2, ... up to its
    /// total, none twice (a replay after a kill whose output had been committed), none missing (output of a checkpoint
    /// lost in a kill), none of an aborted transaction.
    /// </summary>
    private void AssertEveryCountOnce(string output, string[] lines, CrashSeed seed)
    {
        var totals = CheckpointProgress.WordTotals(lines);
        var records = _kafka.ReadToEnd(output, Partitions, IsolationLevel.ReadCommitted);
        var counts = records.GroupBy(r => r.Message.Key!).ToDictionary(g => g.Key, g => g.Select(r => long.Parse(r.Message.Value!, CultureInfo.InvariantCulture)).Order().ToList());
        var missingWords = totals.Keys.Except(counts.Keys).Order(StringComparer.Ordinal).ToList();
        var extraWords = counts.Keys.Except(totals.Keys).Order(StringComparer.Ordinal).ToList();
        Assert.True(missingWords.Count == 0 && extraWords.Count == 0,
            $"{seed}: words without counts: {string.Join(' ', missingWords.Take(20))}; counts of words not in the input: {string.Join(' ', extraWords.Take(20))}");
        var wrong = totals.Where(t => !counts[t.Key].SequenceEqual(LongRange(t.Value))).Take(5)
            .Select(t => $"{t.Key} (total {t.Value}): {Describe(counts[t.Key], t.Value)}").ToList();
        Assert.True(wrong.Count == 0, $"{seed}: counts read committed are not each 1..total once: {string.Join("; ", wrong)}");
        Assert.True(records.Count == totals.Values.Sum(), $"{seed}: {records.Count} counts read committed, {totals.Values.Sum()} expected");
    }

    private static IEnumerable<long> LongRange(long total)
    {
        for (long i = 1; i <= total; i++) yield return i;
    }

    /// <summary>What is wrong with one word's counts: the duplicates and the missing ones.</summary>
    private static string Describe(List<long> counts, long total)
    {
        var twice = counts.GroupBy(c => c).Where(g => g.Count() > 1).Select(g => $"{g.Key}x{g.Count()}").Take(10);
        var missing = LongRange(total).Except(counts).Take(10);
        var beyond = counts.Where(c => c < 1 || c > total).Distinct().Take(10);
        return $"{counts.Count} counts, twice: [{string.Join(' ', twice)}], missing: [{string.Join(' ', missing)}], out of range: [{string.Join(' ', beyond)}]";
    }

    [Fact]
    public async Task a_word_count_killed_at_random_points_and_restarted_writes_every_count_once_for_read_committed_readers()
    {
        var seed = new CrashSeed(SeedVariable, log);
        await seed.RunAsync(async () =>
        {
            var random = new Random(seed.Value);
            int kills = CrashSeed.Setting(KillsVariable, 5);
            string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
            await _kafka.CreateTopicAsync(input, Partitions);
            await _kafka.CreateTopicAsync(output, Partitions);
            string[] lines = Lines(random, 400 + 400 * kills);
            int[] killPoints = KillPoints(random, kills, lines.Length);
            string[] arguments = Arguments(input, output);

            using var stopFeeding = new CancellationTokenSource();
            var feeding = FeedAsync(input, lines, stopFeeding.Token);
            using var open = new OpenTransactions(fixture.Broker.BootstrapServers, output, Partitions);
            var job = JobProcess.Start("WordCount", arguments);
            var run = Stopwatch.StartNew();
            try
            {
                long covered = 0;
                for (int k = 0; k < kills; k++)
                {
                    // Each run gets past its restored checkpoint before it is killed.
                    long target = Math.Min(Math.Max(killPoints[k], covered + 100), lines.Length - 100);
                    string when = await ReachKillPointAsync(k, target, run, random, open, [job]);
                    job.Kill();
                    covered = CheckpointProgress.Records(_directory);
                    Log($"kill {k + 1} {when} (the newest checkpoint then covered {covered})");
                    job.Dispose();
                    job = JobProcess.Start("WordCount", arguments);
                    run.Restart();
                }
                await feeding;
                await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) == lines.Length, "a checkpoint covering every line", job);
                Assert.Equal(0, await job.TerminateAsync());
            }
            finally
            {
                stopFeeding.Cancel(); // a failure above leaves the feeding loop waiting for a checkpoint
                job.Dispose();
            }

            AssertEveryCountOnce(output, lines, seed);
            Log($"{kills} kills, {lines.Length} lines, {CheckpointProgress.WordTotals(lines).Values.Sum()} counts, each once");
        });
    }

    [Fact]
    public async Task a_word_count_on_two_instances_whose_leader_is_killed_again_and_again_writes_every_count_once_for_read_committed_readers()
    {
        var seed = new CrashSeed(SeedVariable, log);
        await seed.RunAsync(async () =>
        {
            var random = new Random(seed.Value);
            int kills = CrashSeed.Setting(KillsVariable, 3);
            const int sessionTimeoutMs = 5000; // the examples' default
            string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
            await _kafka.CreateTopicAsync(input, Partitions);
            await _kafka.CreateTopicAsync(output, Partitions);
            string[] lines = Lines(random, 400 + 400 * kills);
            int[] killPoints = KillPoints(random, kills, lines.Length);
            // Each process its own instance id, as a supervisor's restart gets: the killed one's latch and info znodes
            // stay until its session expires.
            int started = 0;
            var instances = new List<(string Name, JobProcess Job)>();
            (string Name, JobProcess Job) Start()
            {
                string name = $"i{++started}";
                var job = JobProcess.Start("WordCount", [.. Arguments(input, output), "--keeper", Keeper, "--job-id", jobId,
                    "--ha-session-timeout-ms", sessionTimeoutMs.ToString(CultureInfo.InvariantCulture), "--instance-id", name]);
                instances.Add((name, job));
                return (name, job);
            }
            JobProcess[] Jobs() => [.. instances.Select(i => i.Job)];
            string? Role((string Name, JobProcess Job) instance) => WindowCrashTests.Role(instance.Job, instance.Name, jobId);

            using var stopFeeding = new CancellationTokenSource();
            using var open = new OpenTransactions(fixture.Broker.BootstrapServers, output, Partitions);
            var takeovers = new List<(double Lead, double Checkpoint)>();
            var run = Stopwatch.StartNew(); // since the current leader's takeover
            try
            {
                // Both at once: whichever joins the election first leads.
                Start();
                Start();
                var feeding = FeedAsync(input, lines, stopFeeding.Token);
                await HighAvailabilityTests.WaitForAsync(() => instances.Select(Role).Order().SequenceEqual(["leader", "standby"]),
                    "one instance leading and the other waiting", Jobs());

                long covered = 0;
                for (int k = 0; k < kills; k++)
                {
                    long target = Math.Min(Math.Max(killPoints[k], covered + 100), lines.Length - 100);
                    string when = await ReachKillPointAsync(k, target, run, random, open, Jobs());
                    // Whoever leads now (a leader that lost its session under load may have handed over already).
                    await HighAvailabilityTests.WaitForAsync(() => instances.Count(i => Role(i) == "leader") == 1, "one leader", Jobs());
                    var leader = instances.Single(i => Role(i) == "leader");
                    var standby = instances.Single(i => i != leader);
                    int standbyLeads = WindowCrashTests.LeaderLines(standby.Job, standby.Name, jobId);
                    var killedAt = Stopwatch.StartNew();
                    leader.Job.Kill();
                    long newestId = LatestCheckpointId();
                    covered = CheckpointProgress.Records(_directory);
                    instances.Remove(leader);
                    leader.Job.Dispose();
                    Log($"killed leader {leader.Name} {when} (the newest checkpoint then: {newestId}, covering {covered})");

                    // The takeover: the standby leads once the dead leader's session has expired, restores the newest
                    // checkpoint and completes one of its own (a higher id: the counter is in Keeper).
                    double lead = 0;
                    await HighAvailabilityTests.WaitForAsync(() =>
                    {
                        if (lead == 0 && WindowCrashTests.LeaderLines(standby.Job, standby.Name, jobId) > standbyLeads) lead = killedAt.Elapsed.TotalSeconds;
                        return lead > 0 && LatestCheckpointId() > newestId;
                    }, $"standby {standby.Name} taking over and completing a checkpoint", Jobs());
                    takeovers.Add((lead, killedAt.Elapsed.TotalSeconds));
                    run.Restart();
                    Log($"takeover {k + 1}: {standby.Name} leads {lead:F2} s after the SIGKILL, its first checkpoint completed after {takeovers[^1].Checkpoint:F2} s");

                    // The killed instance comes back (a new process) as the standby.
                    var restarted = Start();
                    await HighAvailabilityTests.WaitForAsync(() => Role(restarted) == "standby", $"{restarted.Name} waiting as the standby", Jobs());
                    Log($"{restarted.Name} waits as the standby");
                }
                await feeding;
                await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) == lines.Length, "a checkpoint covering every line", Jobs());

                // The standby first (it just stops), then the leader (a clean stop commits whatever is still open).
                foreach (var instance in instances.OrderBy(i => Role(i) == "leader").ToList())
                    Assert.Equal(0, await instance.Job.TerminateAsync());
            }
            finally
            {
                stopFeeding.Cancel();
                foreach (var instance in instances) instance.Job.Dispose();
            }

            AssertEveryCountOnce(output, lines, seed);
            var sorted = takeovers.Select(t => t.Checkpoint).Order().ToList();
            Log($"{kills} leader kills, session timeout {sessionTimeoutMs} ms: SIGKILL to the new leader's first completed checkpoint "
                + $"{string.Join(", ", takeovers.Select(t => t.Checkpoint.ToString("F2", CultureInfo.InvariantCulture)))} s "
                + $"(median {sorted[sorted.Count / 2]:F2} s); to leading {string.Join(", ", takeovers.Select(t => t.Lead.ToString("F2", CultureInfo.InvariantCulture)))} s");
        });
    }
}
