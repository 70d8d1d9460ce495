using System.Text.Json;
using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Runtime;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// A stream-table join (EnrichClicks, a left join) spread over two processes: the table's one partition is read by
/// source subtask 0 (instance a) while instance b, whose table subtask has no partition, reads clicks at once and
/// sends half of them to its own join subtask and half to a's. The table is large and the clicked users are its last
/// records, so b's clicks reach the join subtasks long before a has read them; the joins hold the clicks until every
/// table subtask's loaded marker has come, so every click still gets its user's name.
/// </summary>
[Collection(BrokerCollection.Name)]
public sealed class ScaleOutTableJoinTests(BrokerFixture fixture, ITestOutputHelper log) : IDisposable
{
    /// <summary>Table records before the clicked users': what a's table subtask reads before it reaches them.</summary>
    private const int FillerUsers = 200_000;
    private const int ClickedUsers = 40;
    private const int Clicks = 400;
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-scaleout-table-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Writes the table: the filler users, then the clicked ones, in one partition, without waiting for each acknowledgement.</summary>
    private void ProduceTable(string users)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = fixture.Broker.BootstrapServers, Acks = Acks.All, LingerMs = 20,
        }).Build();
        Error? failure = null;
        void Produce(string key, string value) =>
            producer.Produce(new TopicPartition(users, 0), new Message<string, string> { Key = key, Value = value }, report =>
            {
                if (report.Error.IsError) failure = report.Error;
            });
        string padding = new('x', 100);
        for (int i = 0; i < FillerUsers; i++)
        {
            while (true)
            {
                try
                {
                    Produce($"filler-{i}", $"filler {i} {padding}");
                    break;
                }
                catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(100));
                }
            }
        }
        for (int u = 0; u < ClickedUsers; u++) Produce($"user-{u}", $"name of user-{u}");
        Assert.Equal(0, producer.Flush(Kafka.Timeout));
        Assert.Null(failure);
    }

    [Fact]
    public async Task clicks_read_before_another_process_has_loaded_the_table_are_held_and_every_click_gets_its_name()
    {
        string clicks = Kafka.NewTopic("clicks"), users = Kafka.NewTopic("users"), output = Kafka.NewTopic("enriched"), jobId = Kafka.NewTopic("enrich");
        await _kafka.CreateTopicAsync(clicks, 2);
        await _kafka.CreateTopicAsync(users, 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" });
        await _kafka.CreateTopicAsync(output, 2);
        await Task.Run(() => ProduceTable(users));
        // The clicked users' join subtasks are on both instances.
        Assert.Equal([0, 1], Enumerable.Range(0, ClickedUsers).Select(u => KeySlots.SlotOf($"user-{u}", 2)).Distinct().Order());

        // No checkpoint within the test (the interval is long): every generation loads the table from the start.
        string[] Arguments(string instance) =>
        [
            "--bootstrap-server", fixture.Broker.BootstrapServers, "--input", clicks, "--table", users, "--output", output,
            "--parallelism", "2", "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "600000", "--at-least-once",
            "--keeper", Keeper, "--job-id", jobId, "--ha-session-timeout-ms", "8000", "--instance-id", instance, "--scale-out",
        ];
        using var a = JobProcess.Start("EnrichClicks", Arguments("a"));
        await HighAvailabilityTests.WaitForAsync(() => a.Output.Contains($"instance a of job {jobId}: leader"), "a leading", a);
        using var b = JobProcess.Start("EnrichClicks", Arguments("b"));
        var assignment = await ScaleOutAssignments.WaitForAsync(new HaKazoo(Keeper), "/quill-streams/" + jobId, ["a", "b"], log, a, b);
        var subtasks = ScaleOutAssignments.SubtasksOf(assignment);
        Assert.Equal([0], subtasks["a"]); // the table's partition, and clicks' partition 0
        Assert.Equal([1], subtasks["b"]); // clicks' partition 1, and no table partition: b's clicks are read at once

        // The clicks come once the generation of both instances runs, while a is (re)loading the table.
        var written = Enumerable.Range(0, Clicks).Select(i => new Input($"user-{i % ClickedUsers}", $"page-{i}", i % 2, null)).ToList();
        await _kafka.ProduceAsync(clicks, written);

        // At-least-once: a click may be written more than once; each must have come, and none without its name.
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var enriched = _kafka.ReadAll(output, 2).Select(r => JsonDocument.Parse(r.Message.Value!).RootElement)
                .Select(e => (User: e.GetProperty("User").GetString()!, Name: e.GetProperty("Name").GetString(), Page: e.GetProperty("Page").GetString()!))
                .ToList();
            var wrong = enriched.Where(e => e.Name != $"name of {e.User}").ToList();
            Assert.True(wrong.Count == 0, $"{wrong.Count} of {enriched.Count} clicks joined without their user's name, e.g. "
                + string.Join("; ", wrong.Take(5).Select(e => $"{e.User} {e.Page}: {e.Name ?? "null"}")) + "\n" + a.Output + "\n-----\n" + b.Output);
            if (enriched.Select(e => e.Page).Distinct().Count() == Clicks) break;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{enriched.Select(e => e.Page).Distinct().Count()} of {Clicks} clicks enriched within {Deadline}\n{a.Output}\n-----\n{b.Output}");
            await Task.Delay(200);
        }
    }
}
