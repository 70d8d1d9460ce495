using System.Globalization;
using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Examples.WordCount;
using Quill.Streams.Serialization;
using Quill.Testing;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// Savepoints: taken on request (through the API, and through Keeper as a tool asks), kept when checkpoints are
/// cleaned up, and restored into a changed job by operator uid; state no operator maps to is refused unless allowed.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class SavepointTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-sp-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    /// <summary>The job's high-availability log, shown with a failure (a lost session explains most).</summary>
    private void Log(string line)
    {
        try
        {
            log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
        }
        catch (InvalidOperationException)
        {
            // the test has ended
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private StreamJobOptions Options(string name, string? fromSavepoint = null, bool allowNonRestored = false, HighAvailabilityOptions? ha = null) => new()
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        JobName = name,
        CheckpointDirectory = Path.Combine(_directory, name),
        CheckpointInterval = TimeSpan.FromMilliseconds(100),
        SavepointDirectory = Path.Combine(_directory, "savepoints"),
        FromSavepoint = fromSavepoint,
        AllowNonRestoredState = allowNonRestored,
        HighAvailability = ha,
    };

    /// <summary>
    /// A changed WordCount: a new stateful operator (counts per word length) defined before the word counts, so that
    /// the counts are no longer the job's first keyed function; the source and the counts keep their uids, unless
    /// <paramref name="countsUid"/> renames the counts.
    /// </summary>
    private static void DefineChanged(StreamJob job, string input, string lengths, string output, string countsUid)
    {
        var words = job.FromKafka(input, Serdes.String).Uid("lines").FlatMap(line => (line ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        words.KeyBy(word => word.Length).Process<string>((word, context) =>
        {
            var seen = context.State.GetValueState<long>("seen");
            seen.Value++;
            context.Emit($"{context.Key}:{seen.Value}");
        }).Uid("lengths").ToKafka(lengths, Serdes.String!);
        words.Map(word => new WordCount(word, 1)).KeyBy(c => c.Word)
            .Reduce((a, b) => new WordCount(a.Word, a.Count + b.Count)).Uid(countsUid)
            .ToKafka(output, c => c.Word, Serdes.String, c => c.Count.ToString(CultureInfo.InvariantCulture), Serdes.String);
    }

    /// <summary>
    /// A savepoint through the API. An instance whose Keeper session expired meanwhile (a starved test host on a busy
    /// machine) stops leading, fails what it was asked, and leads again with a new session: it is asked again.
    /// </summary>
    private static async Task<string> TriggerWhileLeadingAsync(StreamJob job)
    {
        var deadline = DateTime.UtcNow + Kafka.Timeout;
        while (true)
        {
            try
            {
                return await job.TriggerSavepointAsync();
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    [Fact]
    public async Task a_savepoint_taken_through_keeper_or_the_api_outlives_checkpoint_cleanup_and_a_changed_job_restores_it_by_uid()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["to be or not to be"]);

        var v1 = StreamJob.Create(Options("v1", ha: new HighAvailabilityOptions { Keeper = Keeper, JobId = jobId, SessionTimeout = TimeSpan.FromSeconds(8), Log = Log }));
        WordCountJob.Define(v1, input, output);
        string throughApi, throughKeeper;
        await using (var running = new RunningJob(v1))
        {
            await _kafka.ReadAsync(output, 1, 6, running.Run, IsolationLevel.ReadUncommitted);
            throughApi = await TriggerWhileLeadingAsync(v1);
            var answer = await new HaKazoo(Keeper).RequestSavepointAsync("/quill-streams/" + jobId, Path.Combine(_directory, "requested"));
            Assert.Equal("completed", answer.GetProperty("status").GetString());
            throughKeeper = answer.GetProperty("path").GetString()!;
            Assert.StartsWith(Path.Combine(_directory, "requested"), throughKeeper);

            // Both are listed in Keeper once written: <job>/savepoints/<checkpoint id>, {id, path, timestamp}.
            var listed = await ToolRunner.RunKazooAsync("""
                import sys, json
                from kazoo.client import KazooClient
                zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15); root = sys.argv[2] + "/savepoints"
                print(json.dumps([[c, json.loads(zk.get(f"{root}/{c}")[0].decode())] for c in sorted(zk.get_children(root))]))
                zk.stop(); zk.close()
                """, Keeper, "/quill-streams/" + jobId);
            Assert.True(listed.Succeeded, listed.ToString());
            var entries = System.Text.Json.JsonDocument.Parse(listed.StdOut).RootElement.EnumerateArray()
                .Select(e => (Name: e[0].GetString()!, Id: e[1].GetProperty("id").GetInt64(), Path: e[1].GetProperty("path").GetString()!,
                    Timestamp: e[1].GetProperty("timestamp").GetInt64()))
                .ToList();
            Assert.Equal([throughApi, throughKeeper], entries.Select(e => e.Path));
            foreach (var entry in entries)
            {
                Assert.Equal(Savepoints.Read(entry.Path).Id, entry.Id);
                Assert.Equal(entry.Id.ToString("D19", CultureInfo.InvariantCulture), entry.Name);
                Assert.InRange(entry.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            }

            // Checkpoints go on and the old ones are removed (two kept); the savepoints stay.
            long savepointId = Savepoints.Read(throughKeeper).Id;
            var checkpoints = new CheckpointStorage(Path.Combine(_directory, "v1"));
            await HighAvailabilityTests.WaitForAsync(() => checkpoints.LoadLatest() is { } c && c.Id > savepointId + 2, "two more checkpoints");
            await running.StopAsync();
        }
        Assert.True(Directory.GetFiles(Path.Combine(_directory, "v1"), "chk-*.json").Length <= 2);
        foreach (string savepoint in (string[])[throughApi, throughKeeper])
        {
            Assert.True(File.Exists(Path.Combine(savepoint, "_metadata")), savepoint);
            var state = Savepoints.Read(savepoint);
            Assert.Equal(1, state.SourceOffsets["lines"][$"{input}:0"]);
            Assert.Contains("counts", state.Operators.Keys);
        }

        // The changed job from the savepoint: the counts go on (be was 2), the new operator starts empty, the source
        // reads on after the savepoint's offset.
        string lengths = Kafka.NewTopic("lengths"), output2 = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(lengths, 1);
        await _kafka.CreateTopicAsync(output2, 1);
        await _kafka.ProduceAsync(input, ["be"]);
        var v2 = StreamJob.Create(Options("v2", fromSavepoint: throughKeeper));
        DefineChanged(v2, input, lengths, output2, countsUid: "counts");
        await using (var running = new RunningJob(v2))
        {
            var counted = await _kafka.ReadAsync(output2, 1, 1, running.Run, IsolationLevel.ReadUncommitted);
            Assert.Equal("be:3", $"{counted[0].Message.Key}:{counted[0].Message.Value}");
            var byLength = await _kafka.ReadAsync(lengths, 1, 1, running.Run, IsolationLevel.ReadUncommitted);
            Assert.Equal("2:1", byLength[0].Message.Value);
        }
    }

    [Fact]
    public async Task state_that_maps_to_no_operator_is_refused_with_its_names_unless_non_restored_state_is_allowed()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["to be or not to be"]);
        var v1 = StreamJob.Create(Options("v1"));
        WordCountJob.Define(v1, input, output);
        string savepoint;
        await using (var running = new RunningJob(v1))
        {
            await _kafka.ReadAsync(output, 1, 6, running.Run, IsolationLevel.ReadUncommitted);
            savepoint = await v1.TriggerSavepointAsync();
        }

        // The counts renamed: the savepoint's "counts" state has no operator.
        string lengths = Kafka.NewTopic("lengths"), output2 = Kafka.NewTopic("counts");
        await _kafka.CreateTopicAsync(lengths, 1);
        await _kafka.CreateTopicAsync(output2, 1);
        var refused = StreamJob.Create(Options("v2", fromSavepoint: savepoint));
        DefineChanged(refused, input, lengths, output2, countsUid: "totals");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => refused.RunAsync(CancellationToken.None).WaitAsync(Kafka.Timeout));
        Assert.Contains("does not have: counts", error.Message);
        Assert.Contains("AllowNonRestoredState", error.Message);

        // Allowed: the counts start from zero, the source still reads on from the savepoint's offset.
        await _kafka.ProduceAsync(input, ["be"]);
        var allowed = StreamJob.Create(Options("v3", fromSavepoint: savepoint, allowNonRestored: true));
        DefineChanged(allowed, input, lengths, output2, countsUid: "totals");
        await using var again = new RunningJob(allowed);
        var counted = await _kafka.ReadAsync(output2, 1, 1, again.Run, IsolationLevel.ReadUncommitted);
        Assert.Equal("be:1", $"{counted[0].Message.Key}:{counted[0].Message.Value}");
    }

    /// <summary>
    /// Clicks joined with a table of user names; with <paramref name="countFirst"/> a new stateful operator (clicks
    /// counted per user) is defined before the table, which moves the table's place in the job's definition.
    /// </summary>
    private static void DefineEnrich(StreamJob job, string users, string clicks, string output, bool countFirst, string? tableUid)
    {
        var keyed = job.FromKafka([clicks], StartFrom.Earliest, Serdes.String, Serdes.String).Uid("clicks").KeyBy(c => c.Key!);
        if (countFirst)
            keyed.Process<string>((click, context) =>
            {
                var seen = context.State.GetValueState<long>("seen");
                seen.Value++;
            }).Uid("click-counts");
        var table = job.TableFromKafka<string, string?>(users, Serdes.String!, Serdes.String);
        if (tableUid is not null) table.Uid(tableUid);
        keyed.LeftJoin(table, (click, name) => $"{click.Value} {name ?? "(none)"}").Uid("enrich").ToKafka(output, Serdes.String!);
    }

    [Fact]
    public async Task a_table_given_a_uid_is_restored_from_a_savepoint_after_an_operator_was_added_before_it()
    {
        string users = Kafka.NewTopic("users"), clicks = Kafka.NewTopic("clicks"), output = Kafka.NewTopic("enriched");
        await _kafka.CreateTopicAsync(users, 1);
        await _kafka.CreateTopicAsync(clicks, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(users, [new("u1", "Alice", 0, null)]);
        await _kafka.ProduceAsync(clicks, [new("u1", "a", 0, null)]);
        var v1 = StreamJob.Create(Options("v1"));
        DefineEnrich(v1, users, clicks, output, countFirst: false, tableUid: "users");
        string savepoint;
        await using (var running = new RunningJob(v1))
        {
            await _kafka.ReadAsync(output, 1, 1, running.Run, IsolationLevel.ReadUncommitted);
            savepoint = await v1.TriggerSavepointAsync();
        }
        Assert.Equal(1, Savepoints.Read(savepoint).SourceOffsets["users"][$"{users}:0"]);

        // Without its uid the table is the job's "table-3": the savepoint's table state (named "users") is nobody's.
        var unnamed = StreamJob.Create(Options("v2", fromSavepoint: savepoint));
        DefineEnrich(unnamed, users, clicks, output, countFirst: true, tableUid: null);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => unnamed.RunAsync(CancellationToken.None).WaitAsync(Kafka.Timeout));
        Assert.Contains("does not have: users", error.Message);

        // With it, the changed job reads the table on from the savepoint's offset (u2 only) on top of the restored u1.
        await _kafka.ProduceAsync(users, [new("u2", "Bob", 0, null)]);
        await _kafka.ProduceAsync(clicks, [new("u1", "b", 0, null), new("u2", "c", 0, null)]);
        var v3 = StreamJob.Create(Options("v3", fromSavepoint: savepoint));
        DefineEnrich(v3, users, clicks, output, countFirst: true, tableUid: "users");
        await using (var running = new RunningJob(v3))
        {
            await _kafka.ReadAsync(output, 1, 3, running.Run, IsolationLevel.ReadUncommitted);
            var progress = new CheckpointStorage(Path.Combine(_directory, "v3"));
            await HighAvailabilityTests.WaitForAsync(() => TableOffset(progress, users) == 2, "a checkpoint with the table read to offset 2");
        }
        Assert.Equal(["a Alice", "b Alice", "c Bob"],
            _kafka.ReadToEnd(output, 1, IsolationLevel.ReadCommitted).Select(r => r.Message.Value).Order());
    }

    /// <summary>The table's offset in the newest checkpoint (null before one, or while its file is being replaced).</summary>
    private static long? TableOffset(CheckpointStorage checkpoints, string topic)
    {
        try
        {
            return checkpoints.LoadLatest()?.SourceOffsets.GetValueOrDefault("users")?.GetValueOrDefault($"{topic}:0");
        }
        catch (IOException)
        {
            return null;
        }
    }
}
