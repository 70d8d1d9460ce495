using System.Diagnostics;
using Quill.Broker.Log;
using Quill.Kafka.Protocol.Records;

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
            var acknowledged = new Dictionary<long, string>();
            foreach (var line in await RunChildAndKill(assembly, minimumLines: 400 + round * 200))
            {
                int space = line.IndexOf(' ');
                acknowledged[long.Parse(line[..space])] = line[(space + 1)..];
            }

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

    [Fact]
    public async Task Transactions_survive_kill_9_with_their_stable_offset_and_aborted_index_rebuilt()
    {
        string assembly = typeof(CrashChild).Assembly.Location;
        var data = new Dictionary<long, string>();
        var markers = new Dictionary<long, (bool Commit, long ProducerId)>();
        for (int round = 0; round < 2; round++)
        {
            foreach (var line in await RunChildAndKill(assembly, minimumLines: 300 + round * 200, mode: "txn"))
            {
                var parts = line.Split(' ');
                if (parts[0] == "d") data[long.Parse(parts[1])] = parts[2];
                else markers[long.Parse(parts[1])] = (parts[2] == "C", long.Parse(parts[3]));
            }

            using var manager = new LogManager(_dir.Path, new LogConfig { SegmentBytes = 16 * 1024, IndexIntervalBytes = 512 });
            var log = manager.Get("txn", 0);
            Assert.NotNull(log);
            Assert.True(log.Segments.Count > 1, "the child should have rolled segments");

            // Derive the transactions from the recovered batches themselves, and hold the log's rebuilt state to it.
            var open = new Dictionary<long, long>();
            var aborted = new List<(long ProducerId, long FirstOffset)>();
            var stored = new Dictionary<long, string>();
            var storedMarkers = new Dictionary<long, (bool Commit, long ProducerId)>();
            for (long offset = 0; offset < log.LogEndOffset;)
            {
                var bytes = log.Read(offset, 1 << 20).Records.ToArray();
                foreach (var batch in RecordBatch.ReadAll(bytes))
                {
                    Assert.True(batch.IsCrcValid);
                    if (batch.IsControl)
                    {
                        var marker = ControlMarker.Parse(batch.Bytes)!.Value;
                        storedMarkers[batch.BaseOffset] = (marker.Commit, batch.ProducerId);
                        if (open.Remove(batch.ProducerId, out long first) && !marker.Commit) aborted.Add((batch.ProducerId, first));
                    }
                    else
                    {
                        open.TryAdd(batch.ProducerId, batch.BaseOffset);
                        foreach (var r in batch.ReadRecords()) stored[r.Offset] = Batches.Text(r.Value);
                    }
                    offset = batch.LastOffset + 1;
                }
            }
            Assert.Equal(open.Count == 0 ? log.LogEndOffset : open.Values.Min(), log.LastStableOffset);
            Assert.Equal(aborted, log.CollectAbortedTransactions(0, log.LogEndOffset));
            Assert.Equal(aborted.Count, log.Segments.Sum(s => s.TxnIndex.Entries.Count));

            foreach (var (offset, value) in data)
                Assert.True(stored.TryGetValue(offset, out var found) && found == value, $"acknowledged record {offset} is lost or changed");
            foreach (var (offset, marker) in markers)
                Assert.True(storedMarkers.TryGetValue(offset, out var found) && found == marker, $"acknowledged marker {offset} is lost or changed");
            Assert.Contains(markers.Values, m => !m.Commit);
        }
    }

    /// <summary>Runs the child until it has printed <paramref name="minimumLines"/> acknowledgements, SIGKILLs it, and returns them all.</summary>
    private async Task<List<string>> RunChildAndKill(string assembly, int minimumLines, string? mode = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assembly);
        start.Environment[CrashChild.EnvironmentVariable] = _dir.Path;
        if (mode is not null) start.Environment[CrashChild.ModeVariable] = mode;
        using var child = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var acknowledged = new List<string>();
        var stderr = child.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (acknowledged.Count < minimumLines)
            {
                string? line = await child.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null) Assert.Fail($"the child exited early: {await stderr}");
                if (line != "ready") acknowledged.Add(line);
            }
        }
        finally
        {
            child.Kill(); // SIGKILL on Unix: no finally blocks, no flush, no clean shutdown in the child
            await child.WaitForExitAsync();
        }
        // Lines already printed before the kill are acknowledged too (a torn last line is not).
        string? rest;
        while ((rest = await child.StandardOutput.ReadLineAsync()) is not null)
            if (rest.Count(c => c == ' ') >= 1 && !rest.EndsWith(' ')) acknowledged.Add(rest);
        Assert.False(File.Exists(Path.Combine(_dir.Path, ".kafka_cleanshutdown")));
        return acknowledged;
    }
}
