using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Perf;

/// <summary>The operation mixes `quill perf keeper` runs, as shares of create / setData / getData / exists.</summary>
public sealed record KeeperMix(string Name, int Create, int SetData, int GetData, int Exists)
{
    public static readonly KeeperMix[] All =
    [
        new("write-heavy", 45, 45, 5, 5),
        new("read-heavy", 0, 10, 45, 45),
        new("mixed", 10, 40, 25, 25),
        new("create", 100, 0, 0, 0),
    ];

    public static KeeperMix? Find(string name) => All.FirstOrDefault(m => m.Name == name);
}

public sealed record KeeperPerfOptions(string Server, int Sessions, long Ops, KeeperMix Mix, int ValueSize, int Depth, int Keys);

public sealed record KeeperPerfResult(KeeperPerfOptions Options, long Ops, long Errors, TimeSpan Elapsed, LongHistogram Latency)
{
    public double OpsPerSecond => Ops / Elapsed.TotalSeconds;
    public double Percentile(double p) => Latency.GetValueAtPercentile(p) / 1000.0;

    /// <summary>One line that scripts and docs/benchmarks.md can quote.</summary>
    public string Summary() => string.Format(CultureInfo.InvariantCulture,
        "mix={0} sessions={1} depth={2} ops={3} errors={4} elapsed_s={5:0.000} ops_per_s={6:0} p50_ms={7:0.000} p99_ms={8:0.000} p999_ms={9:0.000} max_ms={10:0.000}",
        Options.Mix.Name, Options.Sessions, Options.Depth, Ops, Errors, Elapsed.TotalSeconds, OpsPerSecond,
        Percentile(50), Percentile(99), Percentile(99.9), Latency.GetMaxValue() / 1000.0);
}

/// <summary>
/// A fixed number of ZooKeeper operations spread over N concurrent sessions, each keeping `depth` requests in flight,
/// timed per operation. Works against any ZooKeeper-protocol server, so Keeper and Apache ZooKeeper are measured by
/// the same client in the same way.
/// </summary>
public static class KeeperPerf
{
    public static async Task<KeeperPerfResult> RunAsync(KeeperPerfOptions o, Action<long>? progress = null, CancellationToken ct = default)
    {
        string root = "/quill-perf-" + Guid.NewGuid().ToString("N")[..8];
        var value = new byte[o.ValueSize];
        Random.Shared.NextBytes(value);
        await using (var setup = await KeeperClient.ConnectAsync(o.Server, cancellationToken: ct))
        {
            await setup.CreateAsync(root, [], cancellationToken: ct);
            await setup.CreateAsync(root + "/created", [], cancellationToken: ct);
            var creates = new List<Task>();
            for (int k = 0; k < o.Keys; k++) creates.Add(setup.CreateAsync($"{root}/k{k}", value, cancellationToken: ct));
            await Task.WhenAll(creates);
        }

        var clients = new KeeperClient[o.Sessions];
        for (int i = 0; i < clients.Length; i++) clients[i] = await KeeperClient.ConnectAsync(o.Server, cancellationToken: ct);
        long remaining = o.Ops, done = 0, errors = 0;
        var recorders = new List<LatencyRecorder>();
        var workers = new List<Task>();
        var started = Stopwatch.GetTimestamp();
        foreach (var client in clients)
            for (int d = 0; d < o.Depth; d++)
            {
                var recorder = new LatencyRecorder();
                recorders.Add(recorder);
                var rng = new Random(recorders.Count);
                workers.Add(Task.Run(async () =>
                {
                    while (Interlocked.Decrement(ref remaining) >= 0)
                    {
                        int pick = rng.Next(100);
                        string key = $"{root}/k{rng.Next(o.Keys)}";
                        long t0 = Stopwatch.GetTimestamp();
                        try
                        {
                            if ((pick -= o.Mix.Create) < 0) await client.CreateAsync(root + "/created/n", value, mode: CreateMode.PersistentSequential, cancellationToken: ct);
                            else if ((pick -= o.Mix.SetData) < 0) await client.SetDataAsync(key, value, cancellationToken: ct);
                            else if ((pick -= o.Mix.GetData) < 0) await client.GetDataAsync(key, cancellationToken: ct);
                            else await client.ExistsAsync(key, cancellationToken: ct);
                        }
                        catch (KeeperException)
                        {
                            Interlocked.Increment(ref errors);
                        }
                        recorder.Record(t0);
                        Interlocked.Increment(ref done);
                    }
                }, ct));
            }
        using (var timer = new PeriodicTimer(TimeSpan.FromSeconds(1)))
        {
            var all = Task.WhenAll(workers);
            while (!all.IsCompleted)
            {
                await Task.WhenAny(all, timer.WaitForNextTickAsync(ct).AsTask());
                progress?.Invoke(Interlocked.Read(ref done));
            }
            await all;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        foreach (var c in clients) await c.DisposeAsync();
        await CleanUpAsync(o.Server, root);
        return new KeeperPerfResult(o, done, errors, elapsed, LatencyRecorder.Merge(recorders));
    }

    /// <summary>Deletes what the run created, so runs can repeat against the same server.</summary>
    private static async Task CleanUpAsync(string server, string root)
    {
        await using var client = await KeeperClient.ConnectAsync(server);
        foreach (var parent in new[] { root + "/created", root })
        {
            var children = await client.GetChildrenAsync(parent);
            foreach (var chunk in children.Chunk(1000))
                await Task.WhenAll(chunk.Select(c => client.DeleteAsync(parent + "/" + c)));
        }
        await client.DeleteAsync(root);
    }
}
