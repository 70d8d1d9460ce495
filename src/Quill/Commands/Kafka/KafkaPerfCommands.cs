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
