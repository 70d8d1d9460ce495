using System.CommandLine;
using HdrHistogram;
using Quill.Perf;
using Spectre.Console;

namespace Quill.Commands;

/// <summary>`quill perf ...`: benchmarks that drive a server with real clients and report throughput and latency.</summary>
public static class PerfCommands
{
    public static Command Create()
    {
        var perf = new Command("perf", "Benchmarks: run them on Release builds, compare against the reference server in the same run.");
        perf.Subcommands.Add(KeeperCommand());
        perf.Subcommands.Add(Quill.Commands.Kafka.KafkaPerfCommands.Produce());
        perf.Subcommands.Add(Quill.Commands.Kafka.KafkaPerfCommands.Consume());
        perf.Subcommands.Add(Quill.Commands.Kafka.KafkaPerfCommands.Cluster());
        perf.Subcommands.Add(StreamsPerfCommand.Create());
        perf.Subcommands.Add(StatePerfCommand.Create());
        return perf;
    }

    private static Command KeeperCommand()
    {
        var server = new Option<string>("--server") { Description = "Connect string of any ZooKeeper-protocol server.", DefaultValueFactory = _ => "127.0.0.1:2181" };
        var sessions = new Option<int>("--sessions") { Description = "Concurrent sessions.", DefaultValueFactory = _ => 16 };
        var depth = new Option<int>("--depth") { Description = "Requests each session keeps in flight.", DefaultValueFactory = _ => 4 };
        var ops = new Option<long>("--ops") { Description = "Operations in all.", DefaultValueFactory = _ => 100_000 };
        var mix = new Option<string>("--mix") { Description = "write-heavy | read-heavy | mixed | create", DefaultValueFactory = _ => "write-heavy" };
        mix.AcceptOnlyFromAmong(KeeperMix.All.Select(m => m.Name).ToArray());
        var valueSize = new Option<int>("--value-size") { Description = "Bytes per znode value.", DefaultValueFactory = _ => 100 };
        var keys = new Option<int>("--keys") { Description = "Znodes that setData/getData/exists pick from.", DefaultValueFactory = _ => 1000 };
        var command = new Command("keeper", "ZooKeeper-protocol benchmark: a fixed op count over N sessions, HdrHistogram latencies.")
        {
            server, sessions, depth, ops, mix, valueSize, keys,
        };
        command.SetAction(async (parse, ct) =>
        {
            var options = new KeeperPerfOptions(parse.GetValue(server)!, parse.GetValue(sessions), parse.GetValue(ops),
                KeeperMix.Find(parse.GetValue(mix)!)!, parse.GetValue(valueSize), parse.GetValue(depth), parse.GetValue(keys));
            if (options.Sessions < 1 || options.Depth < 1 || options.Ops < 1 || options.Keys < 1 || options.ValueSize < 0)
            {
                Console.Error.WriteLine("quill perf keeper: --sessions, --depth, --ops and --keys must be at least 1");
                return ExitCodes.BadConfig;
            }
            KeeperPerfResult? result = null;
            await AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"{options.Mix.Name} against {options.Server}", maxValue: options.Ops);
                    result = await KeeperPerf.RunAsync(options, done => task.Value = done, ct);
                    task.Value = options.Ops;
                });
            Print(result!);
            return result!.Errors == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static void Print(KeeperPerfResult r)
    {
        var table = new Table().AddColumns("ops", "errors", "elapsed s", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
        table.AddRow($"{r.Ops}", $"{r.Errors}", $"{r.Elapsed.TotalSeconds:0.00}", $"{r.OpsPerSecond:0}", $"{r.Percentile(50):0.000}",
            $"{r.Percentile(99):0.000}", $"{r.Percentile(99.9):0.000}", $"{r.Latency.GetMaxValue() / 1000.0:0.000}");
        AnsiConsole.Write(table);
        Console.WriteLine(r.Summary());
    }
}
