using System.CommandLine;
using System.Globalization;
using Quill.Perf.Streams;

namespace Quill.Commands;

/// <summary>
/// `quill perf streams`: a raw Confluent.Kafka consume-transform-produce loop, Quill.Streams and Streamiz.Kafka.Net on
/// the same input against one running broker: lines/s and end-to-end latency per case, medians over the rounds, ratios.
/// </summary>
public static class StreamsPerfCommand
{
    public static Command Create()
    {
        var bootstrap = new Option<string>("--bootstrap-server") { Description = "The broker to run against.", DefaultValueFactory = _ => "127.0.0.1:9092" };
        var lines = new Option<long>("--lines") { Description = "Input lines per case (five words each).", DefaultValueFactory = _ => 200_000 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds; each runs every case once, in turn.", DefaultValueFactory = _ => 3 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of the input and output topics.", DefaultValueFactory = _ => 2 };
        var parallelism = new Option<int>("--parallelism") { Description = "Quill.Streams parallelism and Streamiz stream threads.", DefaultValueFactory = _ => 1 };
        var cases = new Option<string[]>("--cases")
        {
            Description = "Cases to run: " + string.Join(", ", StreamsPerf.AllCases) + " (default: all; the streamiz ones need --streamiz-bench).",
            AllowMultipleArgumentsPerToken = true,
        };
        var streamiz = new Option<string?>("--streamiz-bench")
        {
            Description = "Path of Quill.Streams.Streamiz.Bench.dll (tools/Quill.Streams.Streamiz.Bench, built with -c Release).",
        };
        var latencyRate = new Option<int>("--latency-rate") { Description = "Probe lines/s in the latency phase.", DefaultValueFactory = _ => 2000 };
        var latencySeconds = new Option<int>("--latency-seconds") { Description = "Length of the latency phase.", DefaultValueFactory = _ => 5 };
        var stall = new Option<int>("--stall-timeout") { Description = "Seconds without output before a case fails.", DefaultValueFactory = _ => 120 };
        var command = new Command("streams", "Stream processing: raw consume-transform-produce, Quill.Streams and Streamiz on the same input.")
        {
            bootstrap, lines, rounds, partitions, parallelism, cases, streamiz, latencyRate, latencySeconds, stall,
        };
        command.SetAction(async (parse, ct) =>
        {
            string? bench = parse.GetValue(streamiz);
            var selected = parse.GetValue(cases) is { Length: > 0 } chosen
                ? chosen.ToList()
                : StreamsPerf.AllCases.Where(c => bench is not null || !c.StartsWith("streamiz", StringComparison.Ordinal)).ToList();
            if (selected.FirstOrDefault(c => !StreamsPerf.AllCases.Contains(c)) is { } unknown)
            {
                Console.Error.WriteLine($"quill perf streams: unknown case '{unknown}'");
                return ExitCodes.BadConfig;
            }
            if (selected.Any(c => c.StartsWith("streamiz", StringComparison.Ordinal)) && (bench is null || !File.Exists(bench)))
            {
                Console.Error.WriteLine("quill perf streams: the streamiz cases need --streamiz-bench PATH/Quill.Streams.Streamiz.Bench.dll");
                return ExitCodes.BadConfig;
            }
            var options = new StreamsPerfOptions(parse.GetValue(bootstrap)!, parse.GetValue(lines), parse.GetValue(rounds),
                parse.GetValue(partitions), parse.GetValue(parallelism), selected, bench, parse.GetValue(latencyRate),
                parse.GetValue(latencySeconds), TimeSpan.FromSeconds(parse.GetValue(stall)));
            if (options.Lines < 2 || options.Rounds < 1 || options.Partitions < 1 || options.Parallelism < 1 || options.LatencyRate < 1 || options.LatencySeconds < 1)
            {
                Console.Error.WriteLine("quill perf streams: --lines must be at least 2; --rounds, --partitions, --parallelism and the latency options at least 1");
                return ExitCodes.BadConfig;
            }
            Console.WriteLine($"quill perf streams: {options.Lines} lines x {options.Rounds} rounds, {options.Partitions} partitions, " +
                              $"parallelism {options.Parallelism}, against {options.BootstrapServers}");
            List<StreamsPerfResult> results;
            try
            {
                results = await StreamsPerf.RunAsync(options, Console.WriteLine, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Console.Error.WriteLine($"quill perf streams: {e.Message}");
                return ExitCodes.Failed;
            }
            PrintSummary(results);
            return results.Count == options.Rounds * options.Cases.Count ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static void PrintSummary(List<StreamsPerfResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("| case | lines/s (median) | lines/s (rounds) | CPU us/line (median) | p50 ms (median) | p99 ms (median) |");
        Console.WriteLine("| --- | ---: | --- | ---: | ---: | ---: |");
        var medians = new Dictionary<string, double>();
        foreach (var group in results.GroupBy(r => r.Case))
        {
            double rate = Median(group.Select(r => r.LinesPerSecond));
            medians[group.Key] = rate;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key} | {rate:0} | {string.Join(", ", group.Select(r => r.LinesPerSecond.ToString("0", CultureInfo.InvariantCulture)))} | " +
                $"{Median(group.Select(r => r.CpuMicrosPerLine)):0.0} | " +
                $"{Median(group.Select(r => r.Percentile(50))):0.0} | {Median(group.Select(r => r.Percentile(99))):0.0} |"));
        }
        Console.WriteLine();
        Ratio(medians, "quill-map", "raw", "stateless map vs the raw ceiling (goal >= 0.80)");
        Ratio(medians, "quill-map", "raw-tuned", "stateless map vs the raw ceiling with the job's client settings (goal >= 0.80)");
        Ratio(medians, "quill-map", "streamiz-map", "stateless map, Quill.Streams vs Streamiz (goal >= 2)");
        Ratio(medians, "quill-count", "streamiz-count", "word count, Quill.Streams vs Streamiz (goal >= 2)");
        Ratio(medians, "quill-window", "streamiz-window", "windowed word count, Quill.Streams vs Streamiz (goal >= 2)");
    }

    private static void Ratio(Dictionary<string, double> medians, string a, string b, string what)
    {
        if (medians.TryGetValue(a, out double x) && medians.TryGetValue(b, out double y) && y > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: {x / y:0.00}"));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
