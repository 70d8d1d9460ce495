using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using HdrHistogram;

namespace Quill.Perf.Kafka;

public sealed record ClusterPerfOptions(
    int Brokers, int Partitions, long Records, int RecordSize, int Rounds, double LatencyRate, int LatencySeconds, int SessionTimeoutMs,
    string Root);

/// <summary>One configuration the cluster benchmark compares: a topic's replication and the producer's acks.</summary>
public sealed record ClusterPerfCase(string Name, string Topic, short ReplicationFactor, int MinInsyncReplicas, string Acks);

/// <summary>One round of one case: unthrottled producer throughput, then end-to-end latency at a fixed rate.</summary>
public sealed record ClusterPerfRound(ClusterPerfCase Case, int Round, ProducerPerfResult Throughput, double EndToEndP50Ms, double EndToEndP99Ms,
    long EndToEndRecords);

/// <summary>
/// `quill perf cluster`: starts a cluster of its own (<see cref="PerfCluster"/>) and measures, in one run, what
/// replication costs one producer: RF 3 with acks=all (min.insync.replicas 2) against RF 1 with acks=1, in alternating
/// rounds (A B, B A, ...) so that a busy machine slows both alike. Each round is an unthrottled producer run
/// (kafka-producer-perf-test's loop, <see cref="ProducerPerf"/>) and an end-to-end run: records sent at a fixed rate
/// while a consumer times each from its produce timestamp (CreateTime, set by the producer) to its arrival. Last, a
/// failover, twice: an acks=all producer on the RF 3 topic, the leader of its partition stopped with SIGTERM (a
/// controlled shutdown) and, once it is back in the ISR, the new leader killed with SIGKILL; each time, how long until a
/// record is acknowledged again.
/// </summary>
public static class ClusterPerf
{
    public static readonly ClusterPerfCase Replicated = new("RF=3 acks=all", "perf-rf3", 3, 2, "all");
    public static readonly ClusterPerfCase Single = new("RF=1 acks=1", "perf-rf1", 1, 1, "1");

    public static async Task<List<ClusterPerfRound>> RunRoundsAsync(PerfCluster cluster, ClusterPerfOptions o, Action<string> report, CancellationToken ct)
    {
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            await cluster.WaitForBrokersAsync(admin, TimeSpan.FromSeconds(120), ct);
            foreach (var c in new[] { Replicated, Single })
            {
                await admin.CreateTopicsAsync([new TopicSpecification
                {
                    Name = c.Topic, NumPartitions = o.Partitions, ReplicationFactor = c.ReplicationFactor,
                    Configs = new() { ["min.insync.replicas"] = c.MinInsyncReplicas.ToString(CultureInfo.InvariantCulture) },
                }]);
            }
        }
        // Warm-up (untimed): connections, JIT, the first segments.
        foreach (var c in new[] { Replicated, Single })
            await ProducerPerf.RunAsync(Producer(cluster, c, Math.Min(o.Records, 50_000), o.RecordSize, -1), ct: ct);

        var rounds = new List<ClusterPerfRound>();
        for (int round = 1; round <= o.Rounds; round++)
        {
            var order = round % 2 == 1 ? new[] { Replicated, Single } : [Single, Replicated];
            foreach (var c in order)
            {
                var throughput = await ProducerPerf.RunAsync(Producer(cluster, c, o.Records, o.RecordSize, -1), ct: ct);
                if (throughput.Errors > 0) throw new InvalidOperationException($"{c.Name}: {throughput.Errors} records failed: {throughput.FirstError}");
                var (p50, p99, seen) = await EndToEndAsync(cluster, c, o, ct);
                var r = new ClusterPerfRound(c, round, throughput, p50, p99, seen);
                rounds.Add(r);
                report(string.Format(CultureInfo.InvariantCulture,
                    "round {0} {1,-14} {2,10:0} records/s {3,7:0.00} MB/s  ack p50 {4,6:0.0} ms p99 {5,7:0.0} ms  end-to-end p50 {6,5:0} ms p99 {7,5:0} ms",
                    round, c.Name, throughput.RecordsPerSecond, throughput.MegabytesPerSecond, throughput.Percentile(50), throughput.Percentile(99), p50, p99));
            }
        }
        return rounds;
    }

    private static ProducerPerfOptions Producer(PerfCluster cluster, ClusterPerfCase c, long records, int size, double rate) =>
        new(cluster.BootstrapServers, c.Topic, records, size, rate, [new("acks", c.Acks), new("linger.ms", "5")]);

    /// <summary>
    /// Sends LatencyRate records/s for LatencySeconds while a consumer, positioned at the end of every partition
    /// before the first is sent, times each record from its CreateTime to its arrival (milliseconds, one clock).
    /// </summary>
    private static async Task<(double P50, double P99, long Seen)> EndToEndAsync(PerfCluster cluster, ClusterPerfCase c, ClusterPerfOptions o, CancellationToken ct)
    {
        long count = (long)(o.LatencyRate * o.LatencySeconds);
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "perf-cluster-e2e",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 100,
        }).Build();
        var ends = new List<TopicPartitionOffset>();
        for (int p = 0; p < o.Partitions; p++)
        {
            var tp = new TopicPartition(c.Topic, p);
            ends.Add(new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High));
        }
        consumer.Assign(ends);
        var latency = new LongHistogram(600_000, 3);
        long seen = 0;
        var reading = Task.Run(() =>
        {
            var idleUntil = DateTime.UtcNow + TimeSpan.FromSeconds(o.LatencySeconds + 30);
            while (seen < count && DateTime.UtcNow < idleUntil && !ct.IsCancellationRequested)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { IsPartitionEOF: false } result) continue;
                long ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - result.Message.Timestamp.UnixTimestampMs;
                latency.RecordValue(Math.Max(0, ms));
                seen++;
            }
        }, ct);
        var sent = await ProducerPerf.RunAsync(Producer(cluster, c, count, o.RecordSize, o.LatencyRate), ct: ct);
        await reading;
        if (sent.Errors > 0 || seen < count)
            throw new InvalidOperationException($"{c.Name} end-to-end: {sent.Errors} send errors ({sent.FirstError}), {seen} of {count} records consumed");
        return (latency.GetValueAtPercentile(50), latency.GetValueAtPercentile(99), seen);
    }

    /// <summary>
    /// An acks=all producer sends to partition 0 of the RF 3 topic (about 1000 records/s); its leader is stopped with
    /// SIGTERM (<paramref name="graceful"/>: leadership moves before it goes) or killed with SIGKILL (the Keeper session
    /// timeout bounds the outage); the result is the longest time the producer went without an acknowledgement, from
    /// the signal until acknowledgements have flowed for 3 s after the old leader's process exited. Returns the stopped
    /// broker's id too.
    /// </summary>
    public static async Task<(TimeSpan Outage, int Stopped)> FailoverAsync(PerfCluster cluster, ClusterPerfOptions o, bool graceful, Action<string> report,
        CancellationToken ct)
    {
        int leader;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build())
            leader = admin.GetMetadata(Replicated.Topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions.First(p => p.PartitionId == 0).Leader;
        var config = new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers, Acks = Acks.All, LingerMs = 1, MessageTimeoutMs = 300_000, EnableIdempotence = true,
        };
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var partition = new TopicPartition(Replicated.Topic, 0);
        var payload = new byte[o.RecordSize];
        long signalledAt = 0, exitedAt = 0;
        var acks = new List<long>(); // when each record after the signal was acknowledged
        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new Lock();
        void Delivered(DeliveryReport<Null, byte[]> r)
        {
            long now = Stopwatch.GetTimestamp();
            if (r.Error.IsError) return;
            lock (gate)
            {
                if (signalledAt == 0) return;
                acks.Add(now);
                if (exitedAt != 0 && now > exitedAt) recovered.TrySetResult();
            }
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sending = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                producer.Produce(partition, new Message<Null, byte[]> { Value = payload }, Delivered);
                await Task.Delay(1, CancellationToken.None);
            }
        }, CancellationToken.None);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            report(graceful
                ? $"failover: stopping broker {leader} (leader of {Replicated.Topic}-0) with SIGTERM (controlled shutdown)"
                : $"failover: killing broker {leader} (leader of {Replicated.Topic}-0) with SIGKILL; Keeper session timeout {cluster.SessionTimeoutMs} ms");
            lock (gate) signalledAt = Stopwatch.GetTimestamp();
            if (graceful) cluster.Terminate(leader);
            else cluster.Kill(leader);
            await cluster.WaitForExitAsync(leader, ct);
            lock (gate) exitedAt = Stopwatch.GetTimestamp();
            // Acknowledgements again after the old leader is gone, and 3 s more of them: the outage is over.
            await recovered.Task.WaitAsync(TimeSpan.FromMinutes(2), ct);
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            lock (gate)
            {
                // The outage as the producer saw it: the longest time without an acknowledgement, from the signal on.
                long longest = 0, previous = signalledAt;
                foreach (long at in acks.Order())
                {
                    longest = Math.Max(longest, at - previous);
                    previous = at;
                }
                return (Stopwatch.GetElapsedTime(0, longest), leader);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await sending;
            producer.Flush(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Waits until every replica of the RF 3 topic's partition 0 is in its ISR again.</summary>
    public static async Task WaitForFullIsrAsync(PerfCluster cluster, CancellationToken ct)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                var p = admin.GetMetadata(Replicated.Topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions.First(p => p.PartitionId == 0);
                if (p.InSyncReplicas.Length == p.Replicas.Length && p.Leader >= 0) return;
            }
            catch (KafkaException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{Replicated.Topic}-0 did not get its full ISR back within 2 min (see {cluster.Root})");
            await Task.Delay(250, ct);
        }
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
