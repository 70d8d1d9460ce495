using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Broker.Compat.Tests.Faults;

/// <summary>What a broker fault run is: how long the workload runs, which faults, the seed, the workload's size.</summary>
public sealed record BrokerFaultRunOptions(TimeSpan Duration, BrokerFaultKinds Faults)
{
    public int Seed { get; init; } = Environment.TickCount & 0xFFFF;
    public int Partitions { get; init; } = 6;
    public int Writers { get; init; } = 3;
    public int Readers { get; init; } = 2;
    /// <summary>Nemeses at once (seeds Seed, Seed+1, ...): with more than one, faults overlap, one per broker at a time.</summary>
    public int Nemeses { get; init; } = 1;
    /// <summary>How long healing may take: the ISR back to three, the readers through every acknowledged record.</summary>
    public TimeSpan HealDeadline { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Keep the directory (history, broker logs) even when the history checks clean.</summary>
    public bool KeepFiles { get; init; }
}

/// <summary>The outcome of a run; <see cref="ToString"/> is the report.</summary>
/// <param name="LeaderElections">Leader epochs summed over the partitions at the end: how often leadership moved.</param>
public sealed record BrokerFaultRunResult(BrokerFaultRunOptions Options, CheckReport Report, IReadOnlyList<NemesisEvent> Events, int Faults,
    int LeaderElections, string Directory, string Diagnostics)
{
    public bool Valid => Report.Valid;

    public override string ToString()
    {
        var text = new StringBuilder()
            .AppendLine($"3 brokers, topic of {Options.Partitions} partitions (RF 3, min.insync.replicas 2), {Options.Duration.TotalSeconds:F0} s, " +
                        $"faults {Options.Faults} ({Options.Nemeses} at once at most), {Options.Writers} writers, {Options.Readers} readers, seed {Options.Seed}; {Faults} faults, " +
                        $"{LeaderElections} leader elections; " +
                        $"files in {Directory}");
        foreach (var e in Events) text.AppendLine($"  {e.TimeMs,8} ms  {e.What}");
        text.Append(Report);
        if (!Valid) text.AppendLine(Diagnostics);
        return text.ToString();
    }
}

/// <summary>
/// One run end to end: three brokers behind proxies on one Keeper; a topic with RF 3 and min.insync.replicas 2; writers
/// and readers (<see cref="FaultWorkload"/>) with the nemesis beside them; heal; wait for every ISR to be whole again
/// and the readers to have read everything acknowledged; read the log to its high watermark and every replica's
/// segment files; check (<see cref="HistoryChecker"/>). The history goes to history.jsonl in the run's directory,
/// which is kept (with the broker logs) when the check fails or the run does.
/// </summary>
public static class BrokerFaultRun
{
    /// <summary>Short lag and session times, so faults are noticed within seconds.</summary>
    public static readonly IReadOnlyDictionary<string, string> BrokerConfig = new Dictionary<string, string>
    {
        ["replica.lag.time.max.ms"] = "3000",
        ["zookeeper.session.timeout.ms"] = "4000",
        ["offsets.topic.replication.factor"] = "3",
        ["offsets.topic.num.partitions"] = "3",
    };

    public static async Task<BrokerFaultRunResult> RunAsync(BrokerFaultRunOptions options, Action<string> log)
    {
        string directory = Path.Combine(Path.GetTempPath(), "quill-broker-faults-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        log("starting a Keeper and 3 brokers");
        var cluster = await FaultCluster.StartAsync(3, BrokerConfig);
        try
        {
            await WaitAsync(async () => (await cluster.RegisteredBrokersAsync()).Length == 3 && await cluster.ControllerAsync() > 0,
                TimeSpan.FromSeconds(90), "three brokers registered and a controller");
            string topic = Clients.NewTopic("faults");
            using (var admin = Clients.Admin(cluster.BootstrapServers))
                await admin.CreateTopicsAsync([new TopicSpecification
                {
                    Name = topic, NumPartitions = options.Partitions, ReplicationFactor = 3,
                    Configs = new() { ["min.insync.replicas"] = "2" },
                }]);
            await WaitAsync(async () => (await cluster.PartitionStatesAsync(topic)) is var s && s.Count == options.Partitions
                                        && s.Values.All(p => p.Leader > 0 && p.Isr.Length == 3), TimeSpan.FromSeconds(90), "every partition led, ISR of three");

            var history = new BrokerHistory();
            var workload = new FaultWorkload(cluster.BootstrapServers, topic, options.Partitions, history);
            var nemeses = Enumerable.Range(0, options.Nemeses).Select(i => new BrokerNemesis(cluster, topic, options.Faults, options.Seed + i, history, log)).ToList();
            log($"workload: {options.Writers} writers, {options.Readers} readers for {options.Duration.TotalSeconds:F0} s on {topic}, seed {options.Seed}");
            var end = DateTime.UtcNow + options.Duration;
            workload.Start(options.Writers, options.Readers);
            // The nemesis stops a little before the writers so the last records go to a healed cluster.
            await Task.WhenAll(nemeses.Select(n => n.RunAsync(options.Duration - TimeSpan.FromSeconds(5))));
            await nemeses[0].HealAllAsync();
            if (end > DateTime.UtcNow) await Task.Delay(end - DateTime.UtcNow);
            log($"stopping the writers ({history.Acks.Count} acknowledged so far)");
            await Task.Run(workload.StopWriters);

            log("waiting for every ISR to be whole");
            var deadline = DateTime.UtcNow + options.HealDeadline;
            Dictionary<int, (int Leader, int LeaderEpoch, int[] Isr)> states;
            while (true)
            {
                states = await cluster.PartitionStatesAsync(topic);
                if (states.Values.All(s => s.Leader > 0 && s.Isr.Length == 3) || DateTime.UtcNow > deadline) break;
                await Task.Delay(500);
            }
            foreach (var (p, s) in states.Where(s => s.Value.Leader <= 0 || s.Value.Isr.Length != 3))
                history.Unhealed.Add($"partition {p}: leader {s.Leader}, epoch {s.LeaderEpoch}, ISR [{string.Join(",", s.Isr)}] {options.HealDeadline.TotalSeconds:F0} s after healing");

            log("waiting for the readers to read every acknowledged record");
            bool caughtUp = await workload.WaitForReadersAsync(options.HealDeadline);
            await Task.Run(workload.StopReaders);
            if (!caughtUp) log("the readers did not read everything (reported below)");

            log("reading the log and every replica");
            ReadFinalLogs(cluster.BootstrapServers, topic, options.Partitions, history);
            await ReadReplicasAsync(cluster, topic, options.Partitions, history);

            var report = HistoryChecker.Check(history);
            history.WriteTo(Path.Combine(directory, "history.jsonl"));
            string diagnostics = report.Valid ? "" : cluster.Diagnostics();
            bool keep = options.KeepFiles || !report.Valid;
            if (keep) SaveLogs(cluster, directory);
            else Directory.Delete(directory, recursive: true);
            return new BrokerFaultRunResult(options, report, [.. nemeses.SelectMany(n => n.Events).OrderBy(e => e.TimeMs)], nemeses.Sum(n => n.Faults),
                states.Values.Sum(st => st.LeaderEpoch), directory, diagnostics);
        }
        catch (Exception e)
        {
            SaveLogs(cluster, directory);
            throw new InvalidOperationException($"the fault run failed (files in {directory}): {e.Message}\n{cluster.Diagnostics()}", e);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static void SaveLogs(FaultCluster cluster, string directory)
    {
        foreach (var (id, broker) in cluster.Brokers) File.WriteAllText(Path.Combine(directory, $"broker-{id}.log"), broker.Output);
    }

    private static async Task WaitAsync(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"within {timeout}: never {what}");
            await Task.Delay(500);
        }
    }

    /// <summary>Each partition's high watermark and its records below it, as a fresh client reads them from the leader.</summary>
    private static void ReadFinalLogs(string bootstrap, string topic, int partitions, BrokerHistory history)
    {
        using var consumer = Clients.Consumer(bootstrap);
        for (int p = 0; p < partitions; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(30));
            history.HighWatermarks[p] = marks.High.Value;
            history.FinalLogs[p] = [];
        }
        var open = Enumerable.Range(0, partitions).Where(p => history.HighWatermarks[p] > 0).ToHashSet();
        consumer.Assign(open.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (open.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"reading the log to the high watermark: partitions {string.Join(",", open)} not done within 120 s");
            var result = consumer.Consume(TimeSpan.FromMilliseconds(500));
            if (result?.Message is null) continue;
            int partition = result.Partition.Value;
            if (result.Offset.Value >= history.HighWatermarks[partition]) continue;
            history.FinalLogs[partition].Add((result.Offset.Value, result.Message.Value));
            if (result.Offset.Value == history.HighWatermarks[partition] - 1) open.Remove(partition);
        }
    }

    /// <summary>
    /// Every broker's copy of every partition from its segment files, once each holds at least the high watermark's
    /// worth (a follower may still be appending the last fetch), or as they are after 30 s.
    /// </summary>
    private static async Task ReadReplicasAsync(FaultCluster cluster, string topic, int partitions, BrokerHistory history)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<ReplicaLog> replicas;
        while (true)
        {
            replicas = [.. from b in cluster.Brokers from p in Enumerable.Range(0, partitions)
                           select new ReplicaLog(b.Key, p, BrokerCluster.ReplicaRecords(b.Value, topic, p))];
            if (replicas.All(r => r.Records.Count(x => x.Offset < history.HighWatermarks[r.Partition]) >= history.FinalLogs[r.Partition].Count)
                || DateTime.UtcNow > deadline)
                break;
            await Task.Delay(500);
        }
        history.Replicas.AddRange(replicas);
    }
}
