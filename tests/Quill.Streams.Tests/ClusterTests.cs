using Confluent.Kafka;
using Quill.Broker.Compat.Tests;
using Quill.Broker.Groups;
using Quill.Broker.Transactions;
using Xunit.Abstractions;

namespace Quill.Streams.Tests;

/// <summary>
/// An exactly-once job on a replicated cluster: three `quill broker start` processes on one Keeper
/// (<see cref="BrokerCluster"/>), every topic (input, output, <c>__consumer_offsets</c>, <c>__transaction_state</c>)
/// with replication factor 3 and min.insync.replicas 2. The WordCount example runs as a process while the broker that
/// coordinates its checkpoints' marker group is killed with SIGKILL (new leaders are elected for everything it led) and
/// later restarted, and the job itself is killed and restarted; a read_committed Confluent.Kafka consumer then reads
/// every (word, running count) exactly once.
/// </summary>
public sealed class ClusterTests(ITestOutputHelper log) : IDisposable
{
    private const int Brokers = 3, Partitions = 3, InternalPartitions = 3;
    private const string JobName = "word-count"; // the WordCount example's job name: its transactional ids and group
    /// <summary>Failovers take a Keeper session (6 s) and an election; on a busy two-core machine, much longer.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static readonly Dictionary<string, string> Config = new()
    {
        // A dead follower leaves the ISR after 3 s, so acks=all writes go on with the two brokers left.
        ["replica.lag.time.max.ms"] = "3000",
        ["min.insync.replicas"] = "2",
        ["offsets.topic.replication.factor"] = "3",
        ["offsets.topic.num.partitions"] = $"{InternalPartitions}",
        ["transaction.state.log.replication.factor"] = "3",
        ["transaction.state.log.min.isr"] = "2",
        ["transaction.state.log.num.partitions"] = $"{InternalPartitions}",
    };

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "quill-streams-cluster-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task an_exactly_once_word_count_on_three_brokers_outlives_the_kill_of_its_group_coordinator_and_its_own_kill_with_every_count_once()
    {
        var started = DateTime.UtcNow;
        await using var cluster = await BrokerCluster.StartAsync(Brokers, Config);
        await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == Brokers && c.Controller > 0, Deadline, "three brokers and a controller");
        // All three addresses, for the whole test: a client goes to the others while one is down.
        string bootstrap = cluster.BootstrapServers;
        var kafka = new Kafka(bootstrap);
        string input = Kafka.NewTopic("lines"), output = Kafka.NewTopic("counts");
        foreach (string topic in new[] { input, output })
            await kafka.CreateTopicAsync(topic, Partitions, new() { ["min.insync.replicas"] = "2" }, replicationFactor: 3);
        await WaitForStatesAsync(cluster, [.. new[] { input, output }.SelectMany(t => Enumerable.Range(0, Partitions).Select(p => (t, p)))],
            s => s.Leader > 0 && s.Isr.Length == Brokers, "a leader and all three in sync");

        // 3 words a line: a few frequent words (long runs of counts) and one unique word per line; three parts, written
        // with acks=all by Confluent.Kafka: before the broker kill, during it, and around the job's kill.
        string[] lines = [.. Enumerable.Range(0, 1800).Select(i => $"a{i % 7} b{i % 11} u{i}")];
        var totals = CheckpointProgress.WordTotals(lines);
        Task Produce(int from, int to) => kafka.ProduceAsync(input, lines[from..to].Select((l, i) => new Input(null, l, (from + i) % Partitions, null)));
        string[] arguments =
        [
            "--bootstrap-server", bootstrap, "--input", input, "--output", output, "--parallelism", "2",
            "--checkpoint-dir", _directory, "--checkpoint-interval-ms", "200", "--exactly-once",
        ];

        log.WriteLine($"cluster and topics ready after {DateTime.UtcNow - started}");
        await Produce(0, 600);
        log.WriteLine($"first part written after {DateTime.UtcNow - started}");
        var job = JobProcess.Start("WordCount", arguments);
        try
        {
            await WaitForCheckpointAsync(600, job, cluster);
            log.WriteLine($"first part checkpointed after {DateTime.UtcNow - started}");

            // The broker that matters most to the job: the coordinator of its marker group (every checkpoint's
            // pre-commit adds the marker to the transaction there, with TxnOffsetCommit); with leaders spread round-robin
            // it leads a share of everything else too (the log says which).
            var roles = await RolesAsync(cluster, input, output);
            int victim = roles.First(r => r.What == $"group coordinator of {JobName}.checkpoints").Leader;
            log.WriteLine($"broker {victim} to be killed; {string.Join(", ", roles.Select(r => $"{r.What}: {r.Leader}"))}");

            // It dies while the second part is being written and the job is reading it (both go on through the failover).
            var producing = Produce(600, 1200);
            await WaitForCheckpointAsync(700, job, cluster);
            cluster.Brokers[victim].Kill();
            log.WriteLine($"broker {victim} killed after {DateTime.UtcNow - started}; the newest checkpoint covered {CheckpointProgress.Records(_directory)} records");
            var moved = await WaitForStatesAsync(cluster, [.. roles.Where(r => r.Leader == victim).Select(r => (r.Topic, r.Partition))],
                s => s.Leader > 0 && s.Leader != victim, $"a new leader in place of the killed broker {victim}");
            foreach (var role in roles.Where(r => r.Leader == victim))
            {
                var state = moved[(role.Topic, role.Partition)];
                log.WriteLine($"{role.What}: broker {state.Leader} now (ISR [{string.Join(",", state.Isr)}])");
            }
            await producing;
            await WaitForCheckpointAsync(1200, job, cluster);
            log.WriteLine($"the job committed the second part on two brokers after {DateTime.UtcNow - started}");

            // The killed broker comes back and catches up; then the job is killed with output in an open transaction
            // (when the look finds one) and restarted, while the third part comes in.
            await cluster.Brokers[victim].StartAgainAsync();
            await cluster.WaitUntilEveryBrokerSaysAsync(c => c.Nodes.Count == Brokers, Deadline, $"broker {victim} is back");
            using (var open = new OpenTransactions(bootstrap, output, Partitions))
            {
                await Produce(1200, 1500);
                var deadline = DateTime.UtcNow + Deadline;
                while (open.Ranges().All(r => r.IsEmpty) && CheckpointProgress.Records(_directory) < 1500 && DateTime.UtcNow < deadline)
                    await Task.Delay(5);
                log.WriteLine($"killing the job; open output: [{string.Join(", ", open.Ranges().Select(r => $"{r.Partition}:{r.From}-{r.To}"))}]");
            }
            job.Kill();
            job.Dispose();
            await Produce(1500, 1800);
            job = JobProcess.Start("WordCount", arguments);
            await WaitForCheckpointAsync(1800, job, cluster);
            await kafka.ReadAsync(output, Partitions, (int)totals.Values.Sum(), job.Exited);
        }
        finally
        {
            job.Dispose();
        }

        // Every word's counts, read committed, are exactly 1, 2, ... up to its total: nothing lost in the failover or the
        // kills, nothing written twice by a retry or a replay.
        var records = kafka.ReadToEnd(output, Partitions, IsolationLevel.ReadCommitted);
        var counts = records.GroupBy(r => r.Message.Key!).ToDictionary(g => g.Key, g => g.Select(r => long.Parse(r.Message.Value!)).Order().ToList());
        Assert.Equal(totals.Keys.Order(), counts.Keys.Order());
        foreach (var (word, total) in totals) Assert.Equal(Enumerable.Range(1, (int)total).Select(c => (long)c), counts[word]);
        Assert.Equal(totals.Values.Sum(), records.Count);
        log.WriteLine($"{records.Count} counts, each once, in {DateTime.UtcNow - started}");
    }

    /// <summary>Waits until the job's newest checkpoint covers at least <paramref name="records"/> input records.</summary>
    private async Task WaitForCheckpointAsync(long records, JobProcess job, BrokerCluster cluster)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (CheckpointProgress.Records(_directory) < records)
        {
            if (job.Exited.IsCompleted) await job.Exited;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no checkpoint covered {records} input records within {Deadline} (the newest covers {CheckpointProgress.Records(_directory)})\n"
                    + $"=== job ===\n{job.Output}\n{cluster.Diagnostics()}");
            await Task.Delay(50);
        }
    }

    /// <summary>What the job uses of the cluster: a partition, and who leads it (a coordinator leads its internal partition).</summary>
    private sealed record Role(string What, string Topic, int Partition, int Leader);

    /// <summary>Who leads what the job uses, read from the partition state znodes.</summary>
    private static async Task<List<Role>> RolesAsync(BrokerCluster cluster, string input, string output)
    {
        var partitions = new List<(string What, string Topic, int Partition)>();
        foreach (string id in new[] { $"{JobName}.output-0", $"{JobName}.output-1" })
            partitions.Add(($"transaction coordinator of {id}", TransactionStateTopic.Name, TransactionStateTopic.PartitionFor(id, InternalPartitions)));
        foreach (string group in new[] { JobName, $"{JobName}.checkpoints" })
            partitions.Add(($"group coordinator of {group}", OffsetsTopic.Name, OffsetsTopic.PartitionFor(group, InternalPartitions)));
        foreach (string topic in new[] { input, output })
            for (int p = 0; p < Partitions; p++) partitions.Add(($"leader of {topic}-{p}", topic, p));
        var states = await StatesAsync(cluster, [.. partitions.Select(p => (p.Topic, p.Partition))]);
        return [.. partitions.Select(p => new Role(p.What, p.Topic, p.Partition, states[(p.Topic, p.Partition)].Leader))];
    }

    /// <summary>The leader and ISR in the state znodes of <paramref name="partitions"/> (leader -1 for none yet), read with one kazoo run.</summary>
    private static async Task<Dictionary<(string Topic, int Partition), (int Leader, int[] Isr)>> StatesAsync(BrokerCluster cluster,
        IReadOnlyList<(string Topic, int Partition)> partitions)
    {
        string output = await cluster.KazooAsync("""
            import sys, json
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            for name in sys.argv[2:]:
                topic, partition = name.rsplit(':', 1)
                path = '/brokers/topics/%s/partitions/%s/state' % (topic, partition)
                state = json.loads(zk.get(path)[0]) if zk.exists(path) else {'leader': -1, 'isr': []}
                print(name, state['leader'], ','.join(map(str, state['isr'])))
            zk.stop()
            """, [.. partitions.Select(p => $"{p.Topic}:{p.Partition}")]);
        var states = new Dictionary<(string, int), (int, int[])>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            int colon = parts[0].LastIndexOf(':');
            int[] isr = parts.Length > 2 && parts[2].Length > 0 ? [.. parts[2].Split(',').Select(int.Parse)] : [];
            states[(parts[0][..colon], int.Parse(parts[0][(colon + 1)..]))] = (int.Parse(parts[1]), isr);
        }
        return states;
    }

    /// <summary>Waits (up to <see cref="Deadline"/>) until the state of every one of <paramref name="partitions"/> satisfies <paramref name="done"/>.</summary>
    private static async Task<Dictionary<(string Topic, int Partition), (int Leader, int[] Isr)>> WaitForStatesAsync(BrokerCluster cluster,
        IReadOnlyList<(string Topic, int Partition)> partitions, Func<(int Leader, int[] Isr), bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var states = await StatesAsync(cluster, partitions);
            if (states.Values.All(done)) return states;
            Assert.True(DateTime.UtcNow < deadline, $"within {Deadline} the partitions never all showed {what}: "
                + string.Join(", ", states.Select(s => $"{s.Key.Topic}-{s.Key.Partition} leader {s.Value.Leader} ISR [{string.Join(",", s.Value.Isr)}]"))
                + $"\n{cluster.Diagnostics()}");
            await Task.Delay(250);
        }
    }
}
