using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Streams.Api;
using Quill.Streams.Examples.WordCount;
using Quill.Testing;

namespace Quill.Streams.Tests;

/// <summary>`quill streams` (the built quill.dll, run as a process) against a highly available job in the broker's Keeper.</summary>
[Collection(BrokerCollection.Name)]
public sealed class StreamsCommandTests(BrokerFixture fixture) : IDisposable
{
    private readonly Kafka _kafka = new(fixture.Broker.BootstrapServers);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-cli-" + Guid.NewGuid().ToString("N")[..12]);
    private string Keeper => $"127.0.0.1:{fixture.Broker.KeeperPort}";

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static Task<ToolResult> QuillAsync(params string[] arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return ToolRunner.RunAsync(dotnet, [Path.Combine(AppContext.BaseDirectory, "quill.dll"), .. arguments]);
    }

    [Fact]
    public async Task quill_streams_lists_the_leader_and_its_checkpoints_and_takes_a_savepoint_through_keeper()
    {
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts"), jobId = Kafka.NewTopic("wc");
        await _kafka.CreateTopicAsync(input, 1);
        await _kafka.CreateTopicAsync(output, 1);
        await _kafka.ProduceAsync(input, ["to be or not to be"]);
        var job = StreamJob.Create(new StreamJobOptions
        {
            BootstrapServers = fixture.Broker.BootstrapServers,
            JobName = jobId,
            CheckpointDirectory = Path.Combine(_directory, "checkpoints"),
            CheckpointInterval = TimeSpan.FromMilliseconds(200),
            HighAvailability = new HighAvailabilityOptions { Keeper = Keeper, InstanceId = "solo", SessionTimeout = TimeSpan.FromSeconds(8) },
        });
        WordCountJob.Define(job, input, output);
        await using var running = new RunningJob(job);
        await _kafka.ReadAsync(output, 1, 6, running.Run, IsolationLevel.ReadUncommitted);
        await HighAvailabilityTests.WaitForAsync(() => Directory.Exists(Path.Combine(_directory, "checkpoints"))
            && Directory.GetFiles(Path.Combine(_directory, "checkpoints"), "chk-*.json").Length > 0, "a checkpoint");

        var list = await QuillAsync("streams", "list", "--keeper", Keeper);
        Assert.True(list.Succeeded, list.ToString());
        var row = list.StdOut.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Single(cells => cells.Length > 0 && cells[0] == jobId);
        Assert.Equal(["solo", "leader"], row[1..3]);
        Assert.Contains(Path.Combine(_directory, "checkpoints"), list.StdOut);

        string savepoints = Path.Combine(_directory, "savepoints");
        var savepoint = await QuillAsync("streams", "savepoint", "--keeper", Keeper, "--job-id", jobId, "--directory", savepoints);
        Assert.True(savepoint.Succeeded, savepoint.ToString());
        string path = savepoint.StdOut.Trim();
        Assert.StartsWith(savepoints, path);
        Assert.True(File.Exists(Path.Combine(path, "_metadata")), savepoint.ToString());

        var unknown = await QuillAsync("streams", "savepoint", "--keeper", Keeper, "--job-id", "no-such-job");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no job at /quill-streams/no-such-job", unknown.StdErr);
    }
}
