using System.Text.Json;
using Quill.Broker.Compat.Tests;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// WordCount spread over several processes (scale-out) through the broker's Keeper: the leader assigns subtasks to
/// every instance (the assignment znode, read with kazoo), records cross processes over TCP, and a kill -9 or a new
/// instance starts a new generation from the newest checkpoint. At-least-once: a count may be written more than once,
/// but the last count written for each word is its exact total.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ScaleOutTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-scaleout-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private string[] Arguments(string input, string output, string jobId, string instance) =>
    [
        "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", input, "--output", output, "--parallelism", "4",
        "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "300", "--at-least-once",
        "--keeper", Keeper, "--job-id", jobId, "--ha-session-timeout-ms", "8000", "--instance-id", instance, "--scale-out",
    ];

    private static Dictionary<string, int[]> SubtasksOf(JsonElement assignment) => ScaleOutAssignments.SubtasksOf(assignment);

    private Task<JsonElement> WaitForAssignmentAsync(HaKazoo kazoo, string jobRoot, string[] instances, params JobProcess[] jobs) =>
        ScaleOutAssignments.WaitForAsync(kazoo, jobRoot, instances, log, jobs);

    /// <summary>Waits until the last count written for every word is its total (and no other word was counted).</summary>
    private async Task WaitForExactCountsAsync(string output, Dictionary<string, long> totals, params JobProcess[] jobs)
    {
        Dictionary<string, long> last = [];
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (true)
        {
            // Records of one word are in one partition, in the order written: the last one is the newest count.
            last = _kafka.ReadAll(output, 2).GroupBy(r => r.Message.Key!)
                .ToDictionary(g => g.Key, g => long.Parse(g.OrderBy(r => r.Offset.Value).Last().Message.Value!, System.Globalization.CultureInfo.InvariantCulture));
            if (last.Count == totals.Count && totals.All(t => last.GetValueOrDefault(t.Key) == t.Value)) return;
            if (DateTime.UtcNow > deadline)
            {
                var wrong = totals.Where(t => last.GetValueOrDefault(t.Key) != t.Value).Take(10).Select(t => $"{t.Key}: {last.GetValueOrDefault(t.Key)} of {t.Value}");
                throw new TimeoutException($"the last counts were not the totals within {Kafka.Timeout} ({string.Join("; ", wrong)})\n"
                    + string.Join("\n-----\n", jobs.Select(j => j.Output)));
            }
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task three_instances_share_the_subtasks_and_the_last_count_of_every_word_is_its_total()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 4);
        await _kafka.CreateTopicAsync(output, 2);
        string[] lines = [.. Enumerable.Range(0, 1200).Select(i => $"a{i % 7} b{i % 13} c{i % 101}")];
        var totals = CheckpointProgress.WordTotals(lines);

        using var a = JobProcess.Start("WordCount", Arguments(input, output, jobId, "a"));
        using var b = JobProcess.Start("WordCount", Arguments(input, output, jobId, "b"));
        using var c = JobProcess.Start("WordCount", Arguments(input, output, jobId, "c"));
        var kazoo = new HaKazoo(Keeper);
        string jobRoot = "/quill-streams/" + jobId;
        var assignment = await WaitForAssignmentAsync(kazoo, jobRoot, ["a", "b", "c"], a, b, c);

        // Subtask s of every stage on the (s mod 3)-th instance by id; every instance says where it takes records.
        var subtasks = SubtasksOf(assignment);
        Assert.Equal([0, 3], subtasks["a"]);
        Assert.Equal([1], subtasks["b"]);
        Assert.Equal([2], subtasks["c"]);
        Assert.Equal(4, assignment.GetProperty("parallelism").GetInt32());
        string leader = assignment.GetProperty("leader").GetString()!;
        Assert.Contains(leader, subtasks.Keys);
        Assert.All(assignment.GetProperty("instances").EnumerateArray(), i => Assert.StartsWith("127.0.0.1:", i.GetProperty("endpoint").GetString()));

        // `quill streams list` shows the same share-out, one row per instance, under the instances table.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var list = await Quill.Testing.ToolRunner.RunAsync(dotnet, [Path.Combine(AppContext.BaseDirectory, "quill.dll"), "streams", "list", "--keeper", Keeper]);
        Assert.True(list.Succeeded, list.ToString());
        var taskRows = list.StdOut.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(cells => cells.Length >= 5 && cells[1] == jobId).ToDictionary(cells => cells[2], cells => cells[3]);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "0,3", ["b"] = "1", ["c"] = "2" }, taskRows);

        await _kafka.ProduceAsync(input, lines, partitions: 4);
        await WaitForExactCountsAsync(output, totals, a, b, c);

        // Each instance's sources commit their partitions' offsets to the job's group as checkpoints complete (the leader
        // tells the followers), so the group reaches the end of all four partitions, two of which b and c read.
        using var group = new Confluent.Kafka.ConsumerBuilder<Confluent.Kafka.Ignore, Confluent.Kafka.Ignore>(
            new Confluent.Kafka.ConsumerConfig { BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "word-count" }).Build();
        var partitions = Enumerable.Range(0, 4).Select(p => new Confluent.Kafka.TopicPartition(input, p)).ToArray();
        long[] ends = [.. partitions.Select(p => group.QueryWatermarkOffsets(p, Kafka.Timeout).High.Value)];
        await HighAvailabilityTests.WaitForAsync(
            () => group.Committed(partitions, Kafka.Timeout).Select(o => o.Offset.Value).SequenceEqual(ends),
            $"the group's offsets at the partitions' ends [{string.Join(",", ends)}]", a, b, c);
    }

    [Fact]
    public async Task a_killed_follower_and_a_joining_instance_each_start_a_new_generation_and_the_last_counts_stay_exact()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 4);
        await _kafka.CreateTopicAsync(output, 2);
        string[] lines = [.. Enumerable.Range(0, 1500).Select(i => $"a{i % 7} b{i % 13} c{i % 101}")];
        var totals = CheckpointProgress.WordTotals(lines);
        var kazoo = new HaKazoo(Keeper);
        string jobRoot = "/quill-streams/" + jobId;

        using var a = JobProcess.Start("WordCount", Arguments(input, output, jobId, "a"));
        await HighAvailabilityTests.WaitForAsync(() => a.Output.Contains($"instance a of job {jobId}: leader"), "a leading", a);
        using var b = JobProcess.Start("WordCount", Arguments(input, output, jobId, "b"));
        var first = await WaitForAssignmentAsync(kazoo, jobRoot, ["a", "b"], a, b);

        // Part of the input, then kill -9 of the follower once a checkpoint covers some of it.
        await _kafka.ProduceAsync(input, lines[..500], partitions: 4);
        await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) >= 250, "a checkpoint covering 250 lines", a, b);
        b.Kill();
        var afterKill = await WaitForAssignmentAsync(kazoo, jobRoot, ["a"], a);
        Assert.True(afterKill.GetProperty("generation").GetInt64() > first.GetProperty("generation").GetInt64());
        Assert.Equal([0, 1, 2, 3], SubtasksOf(afterKill)["a"]);
        Assert.NotNull(afterKill.GetProperty("checkpoint").GetString()); // restored from the newest checkpoint
        await _kafka.ProduceAsync(input, lines[500..1000], partitions: 4);

        // A third instance joins mid-run: the leader shares the subtasks out again.
        using var c = JobProcess.Start("WordCount", Arguments(input, output, jobId, "c"));
        var afterJoin = await WaitForAssignmentAsync(kazoo, jobRoot, ["a", "c"], a, c);
        Assert.Equal([0, 2], SubtasksOf(afterJoin)["a"]);
        Assert.Equal([1, 3], SubtasksOf(afterJoin)["c"]);
        await _kafka.ProduceAsync(input, lines[1000..], partitions: 4);

        await WaitForExactCountsAsync(output, totals, a, c);
        Assert.Equal("a", afterJoin.GetProperty("leader").GetString());
    }

    [Fact]
    public async Task a_killed_leader_is_followed_by_the_other_instance_which_stops_its_part_and_runs_every_subtask_with_exact_counts()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 4);
        await _kafka.CreateTopicAsync(output, 2);
        string[] lines = [.. Enumerable.Range(0, 1000).Select(i => $"a{i % 7} b{i % 13} c{i % 101}")];
        var totals = CheckpointProgress.WordTotals(lines);
        var kazoo = new HaKazoo(Keeper);
        string jobRoot = "/quill-streams/" + jobId;

        using var a = JobProcess.Start("WordCount", Arguments(input, output, jobId, "a"));
        await HighAvailabilityTests.WaitForAsync(() => a.Output.Contains($"instance a of job {jobId}: leader"), "a leading", a);
        using var b = JobProcess.Start("WordCount", Arguments(input, output, jobId, "b"));
        var first = await WaitForAssignmentAsync(kazoo, jobRoot, ["a", "b"], a, b);
        Assert.Equal("a", first.GetProperty("leader").GetString());

        await _kafka.ProduceAsync(input, lines[..500], partitions: 4);
        await HighAvailabilityTests.WaitForAsync(() => CheckpointProgress.Records(_directory) >= 250, "a checkpoint covering 250 lines", a, b);
        a.Kill();

        // Once a's session expires, b leads: its follower part of a's generation stops, and it runs all four subtasks
        // from the newest checkpoint.
        var afterKill = await WaitForAssignmentAsync(kazoo, jobRoot, ["b"], b);
        Assert.Equal("b", afterKill.GetProperty("leader").GetString());
        Assert.Equal([0, 1, 2, 3], SubtasksOf(afterKill)["b"]);
        Assert.NotNull(afterKill.GetProperty("checkpoint").GetString());
        await _kafka.ProduceAsync(input, lines[500..], partitions: 4);
        await WaitForExactCountsAsync(output, totals, b);
    }
}
