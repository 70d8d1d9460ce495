using System.CommandLine;
using Confluent.Kafka;
using Quill.Perf.Kafka;
using Spectre.Console;

namespace Quill.Commands.Kafka;

/// <summary>
/// `quill perf produce` and `quill perf consume`: kafka-producer-perf-test and kafka-consumer-perf-test on
/// Confluent.Kafka. --mock runs them against librdkafka's in-process mock broker: the client's own ceiling.
/// </summary>
public static class KafkaPerfCommands
{
    public static Command Produce()
    {
        var bootstrap = BootstrapOption();
        var mock = MockOption();
        var topic = new Option<string>("--topic") { Description = "The topic to write to.", Required = true };
        var numRecords = new Option<long>("--num-records") { Description = "Records to send.", Required = true };
        var recordSize = new Option<int>("--record-size") { Description = "Bytes per record.", Required = true };
        var throughput = new Option<double>("--throughput") { Description = "Target records/s; -1 for no limit.", DefaultValueFactory = _ => -1 };
        var producerProps = new Option<string[]>("--producer-props")
        {
            Description = "Producer settings k=v (librdkafka names, e.g. acks=1 linger.ms=5).",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("produce", "Producer benchmark (as kafka-producer-perf-test): records/s, MB/s, latency percentiles.")
        {
            bootstrap, mock, topic, numRecords, recordSize, throughput, producerProps,
        };
        command.SetAction((parse, ct) => KafkaTool.RunAsync("perf produce", async () =>
        {
            if (parse.GetValue(numRecords) < 1 || parse.GetValue(recordSize) < 0) throw new ToolException("--num-records must be at least 1 and --record-size not negative");
            var props = KeyValues.Parse(parse.GetValue(producerProps), "--producer-props");
            using var cluster = parse.GetValue(mock) ? new MockCluster() : null;
            string servers = cluster?.BootstrapServers ?? props.LastOrDefault(p => p.Key == "bootstrap.servers").Value ?? parse.GetValue(bootstrap)!;
            var options = new ProducerPerfOptions(servers, parse.GetValue(topic)!, parse.GetValue(numRecords), parse.GetValue(recordSize),
                parse.GetValue(throughput), props.Where(p => p.Key != "bootstrap.servers").ToList());
            Console.Error.WriteLine($"Producing {options.NumRecords} records of {options.RecordSize} bytes to {options.Topic} at " +
                                    $"{(cluster is null ? servers : $"librdkafka's mock broker ({servers})")}");

            ProducerPerfResult? result = null;
            if (Console.IsOutputRedirected)
                result = await ProducerPerf.RunAsync(options, Console.WriteLine, null, ct);
            else
                await AnsiConsole.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask($"produce to {options.Topic}", maxValue: options.NumRecords);
                        result = await ProducerPerf.RunAsync(options, null, done => task.Value = done, ct);
                        task.Value = options.NumRecords;
                    });

            Console.WriteLine(result!.KafkaLine());
            if (result.Errors > 0)
            {
                Console.Error.WriteLine($"quill perf produce: {result.Errors} record(s) failed: {result.FirstError}");
                return ExitCodes.Failed;
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Consume()
    {
        var bootstrap = BootstrapOption();
        var mock = MockOption();
        var topic = new Option<string>("--topic") { Description = "The topic to read.", Required = true };
        var messages = new Option<long>("--messages") { Description = "Messages to read.", Required = true };
        var group = new Option<string?>("--group") { Description = "Consumer group id (default perf-consumer-N)." };
        var timeout = new Option<long>("--timeout") { Description = "Give up after this many ms without a message.", DefaultValueFactory = _ => 10_000 };
        var consumerProps = new Option<string[]>("--consumer-props")
        {
            Description = "Consumer settings k=v (librdkafka names).",
            AllowMultipleArgumentsPerToken = true,
        };
        var mockRecordSize = new Option<int>("--mock-record-size") { Description = "With --mock: bytes per record written before the run.", DefaultValueFactory = _ => 100 };
        var command = new Command("consume", "Consumer benchmark (as kafka-consumer-perf-test): MB/s and records/s.")
        {
            bootstrap, mock, topic, messages, group, timeout, consumerProps, mockRecordSize,
        };
        command.SetAction((parse, ct) => KafkaTool.RunAsync("perf consume", async () =>
        {
            if (parse.GetValue(messages) < 1) throw new ToolException("--messages must be at least 1");
            using var cluster = parse.GetValue(mock) ? new MockCluster() : null;
            string servers = cluster?.BootstrapServers ?? parse.GetValue(bootstrap)!;
            var options = new ConsumerPerfOptions(servers, parse.GetValue(topic)!, parse.GetValue(messages),
                parse.GetValue(group) ?? $"perf-consumer-{Random.Shared.Next(100_000)}", TimeSpan.FromMilliseconds(parse.GetValue(timeout)),
                KeyValues.Parse(parse.GetValue(consumerProps), "--consumer-props"));
            if (cluster is not null)
            {
                Console.Error.WriteLine($"Writing {options.Messages} records of {parse.GetValue(mockRecordSize)} bytes to librdkafka's mock broker first (untimed)");
                long held = ConsumerPerf.Fill(servers, options.Topic, options.Messages, parse.GetValue(mockRecordSize));
                if (held < options.Messages)
                {
                    // The mock keeps only the newest few MB of each partition; read what it holds.
                    Console.Error.WriteLine($"The mock broker holds only the newest {held} records: reading those");
                    options = options with { Messages = held };
                }
            }

            ConsumerPerfResult? result = null;
            if (Console.IsOutputRedirected)
                result = await Task.Run(() => ConsumerPerf.Run(options, null, ct), ct);
            else
                await AnsiConsole.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask($"consume {options.Topic}", maxValue: options.Messages);
                        result = await Task.Run(() => ConsumerPerf.Run(options, done => task.Value = done, ct), ct);
                        task.Value = result.Messages;
                    });

            Console.WriteLine(ConsumerPerfResult.KafkaHeader);
            Console.WriteLine(result!.KafkaLine());
            if (result.TimedOut)
            {
                Console.Error.WriteLine($"quill perf consume: only {result.Messages} of {options.Messages} messages within the timeout");
                return ExitCodes.Failed;
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Cluster()
    {
        var brokers = new Option<int>("--brokers") { Description = "Brokers to start.", DefaultValueFactory = _ => 3 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of each topic.", DefaultValueFactory = _ => 3 };
        var records = new Option<long>("--num-records") { Description = "Records per throughput run.", DefaultValueFactory = _ => 500_000 };
        var recordSize = new Option<int>("--record-size") { Description = "Bytes per record.", DefaultValueFactory = _ => 100 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds; each runs both cases, the order alternating.", DefaultValueFactory = _ => 5 };
        var latencyRate = new Option<double>("--latency-rate") { Description = "Records/s of the end-to-end latency runs.", DefaultValueFactory = _ => 2000 };
        var latencySeconds = new Option<int>("--latency-seconds") { Description = "Seconds of each end-to-end latency run.", DefaultValueFactory = _ => 5 };
        var sessionTimeout = new Option<int>("--zk-session-timeout-ms")
        {
            Description = "The brokers' zookeeper.session.timeout.ms: how long a killed leader holds its partitions (Kafka's default 18000).",
            DefaultValueFactory = _ => 18_000,
        };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Where the cluster keeps its data (default: a temporary folder, deleted after)." };
        var command = new Command("cluster",
            "Starts a Keeper and N brokers, then compares RF=3 acks=all (min.insync.replicas 2) with RF=1 acks=1 in alternating rounds " +
            "(producer throughput, end-to-end latency) and times a leader's failover after SIGTERM and after SIGKILL.")
        {
            brokers, partitions, records, recordSize, rounds, latencyRate, latencySeconds, sessionTimeout, dataDir,
        };
        command.SetAction((parse, ct) => KafkaTool.RunAsync("perf cluster", async () =>
        {
            var o = new ClusterPerfOptions(parse.GetValue(brokers), parse.GetValue(partitions), parse.GetValue(records), parse.GetValue(recordSize),
                parse.GetValue(rounds), parse.GetValue(latencyRate), parse.GetValue(latencySeconds), parse.GetValue(sessionTimeout),
                parse.GetValue(dataDir)?.FullName ?? Path.Combine(Path.GetTempPath(), $"quill-perf-cluster-{Guid.NewGuid():N}"[..30]));
            if (o.Brokers < 3 || o.Partitions < 1 || o.Records < 1 || o.Rounds < 1 || o.LatencyRate <= 0 || o.LatencySeconds < 1 || o.RecordSize < 0)
                throw new ToolException("--brokers must be at least 3; --partitions, --num-records, --rounds and --latency-seconds at least 1; --latency-rate positive");
            bool temporary = parse.GetValue(dataDir) is null;
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load {LoadAverage()}; {o.Brokers} brokers and one Keeper in {o.Root}");
            Console.WriteLine($"{o.Records} records of {o.RecordSize} bytes per throughput run (linger.ms=5), {o.Partitions} partitions, " +
                              $"end-to-end at {o.LatencyRate:0} records/s for {o.LatencySeconds} s, {o.Rounds} rounds");
            try
            {
                List<ClusterPerfRound> results;
                TimeSpan failover, controlled;
                using (var cluster = await PerfCluster.StartAsync(o.Root, o.Brokers, o.SessionTimeoutMs, ct))
                {
                    results = await ClusterPerf.RunRoundsAsync(cluster, o, Console.WriteLine, ct);
                    (controlled, int stopped) = await ClusterPerf.FailoverAsync(cluster, o, graceful: true, Console.WriteLine, ct);
                    await cluster.RestartAsync(stopped, ct);
                    await ClusterPerf.WaitForFullIsrAsync(cluster, ct);
                    (failover, _) = await ClusterPerf.FailoverAsync(cluster, o, graceful: false, Console.WriteLine, ct);
                }
                Console.WriteLine();
                Console.WriteLine("medians over the rounds:");
                foreach (var c in new[] { ClusterPerf.Replicated, ClusterPerf.Single })
                {
                    var mine = results.Where(r => r.Case == c).ToList();
                    Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                        "  {0,-14} {1,10:0} records/s {2,7:0.00} MB/s  ack p50 {3,6:0.0} ms p99 {4,7:0.0} ms  end-to-end p50 {5,5:0} ms p99 {6,5:0} ms",
                        c.Name, ClusterPerf.Median(mine.Select(r => r.Throughput.RecordsPerSecond)), ClusterPerf.Median(mine.Select(r => r.Throughput.MegabytesPerSecond)),
                        ClusterPerf.Median(mine.Select(r => r.Throughput.Percentile(50))), ClusterPerf.Median(mine.Select(r => r.Throughput.Percentile(99))),
                        ClusterPerf.Median(mine.Select(r => r.EndToEndP50Ms)), ClusterPerf.Median(mine.Select(r => r.EndToEndP99Ms))));
                }
                double ratio = ClusterPerf.Median(results.Where(r => r.Case == ClusterPerf.Replicated).Select(r => r.Throughput.RecordsPerSecond))
                               / ClusterPerf.Median(results.Where(r => r.Case == ClusterPerf.Single).Select(r => r.Throughput.RecordsPerSecond));
                Console.WriteLine($"  throughput ratio RF=3 acks=all / RF=1 acks=1: {ratio:0.00}");
                Console.WriteLine($"  failover: SIGTERM of the leader (controlled shutdown), longest time without an acknowledgement: {controlled.TotalMilliseconds:0} ms");
                Console.WriteLine($"  failover: SIGKILL of the leader, longest time without an acknowledgement: {failover.TotalMilliseconds:0} ms " +
                                  $"(zookeeper.session.timeout.ms {o.SessionTimeoutMs})");
                return ExitCodes.Ok;
            }
            finally
            {
                if (temporary && Directory.Exists(o.Root)) Directory.Delete(o.Root, recursive: true);
            }
        }));
        return command;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static Option<string> BootstrapOption() => new("--bootstrap-server", "--broker-list")
    {
        Description = $"host:port of a broker (default {KafkaToolOptions.DefaultBootstrap}).",
        DefaultValueFactory = _ => KafkaToolOptions.DefaultBootstrap,
    };

    private static Option<bool> MockOption() => new("--mock")
    {
        Description = "Run against librdkafka's in-process mock broker (test.mock.num.brokers=1): the client's own ceiling.",
    };
}
