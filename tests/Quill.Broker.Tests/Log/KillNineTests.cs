using System.Diagnostics;
using Quill.Broker.Log;

namespace Quill.Broker.Tests.Log;

/// <summary>
/// kill -9 durability: a child process appends with flush.messages=1 and prints each acknowledged offset; it is
/// SIGKILLed mid-stream; after recovery every acknowledged offset must be readable with the acknowledged value.
/// </summary>
public sealed class KillNineTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Every_acknowledged_append_survives_kill_9()
    {
        string assembly = typeof(CrashChild).Assembly.Location;
        for (int round = 0; round < 2; round++) // the second round appends to, and kills, an already recovered log
        {
            var acknowledged = await RunChildAndKill(assembly, minimumAcks: 400 + round * 200);

            using var manager = new LogManager(_dir.Path, new LogConfig { SegmentBytes = 16 * 1024, IndexIntervalBytes = 512 });
            var log = manager.Get("crash", 0);
            Assert.NotNull(log);
            Assert.True(log.Segments.Count > 1, "the child should have rolled segments");
            var stored = Batches.ReadAll(log).ToDictionary(r => r.Offset, r => Batches.Text(r.Value));
            foreach (var (offset, value) in acknowledged)
            {
                Assert.True(stored.TryGetValue(offset, out var found), $"acknowledged offset {offset} is missing after recovery (log end {log.LogEndOffset})");
                Assert.Equal(value, found);
            }
            Assert.True(log.LogEndOffset >= acknowledged.Keys.Max() + 1);
        }
    }

    private async Task<Dictionary<long, string>> RunChildAndKill(string assembly, int minimumAcks)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.Environment[CrashChild.EnvironmentVariable] = _dir.Path;
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var acknowledged = new Dictionary<long, string>();
        var stderr = child.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (acknowledged.Count < minimumAcks)
            {
                string? line = await child.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null) Assert.Fail($"the child exited early: {await stderr}");
                if (line == "ready") continue;
                int space = line.IndexOf(' ');
                acknowledged[long.Parse(line[..space])] = line[(space + 1)..];
            }
        }
        finally
        {
            child.Kill(); // SIGKILL on Unix: no finally blocks, no flush, no clean shutdown in the child
            await child.WaitForExitAsync();
        }
        // Lines already printed before the kill are acknowledged too.
        string? rest;
        while ((rest = await child.StandardOutput.ReadLineAsync()) is not null)
        {
            int space = rest.IndexOf(' ');
            if (space > 0 && long.TryParse(rest[..space], out long offset)) acknowledged[offset] = rest[(space + 1)..];
        }
        Assert.False(File.Exists(Path.Combine(_dir.Path, ".kafka_cleanshutdown")));
        return acknowledged;
    }
}
