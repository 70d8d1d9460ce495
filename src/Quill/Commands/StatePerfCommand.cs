using System.CommandLine;
using Quill.Perf;

namespace Quill.Commands;

/// <summary>`quill perf state`: the candidate stores of Quill.Streams' on-disk state backend, a keyed counter over N keys each.</summary>
public static class StatePerfCommand
{
    public static Command Create()
    {
        var stores = new Option<string>("--stores") { Description = "Comma-separated: rocksdb, faster, zonetree.", DefaultValueFactory = _ => "rocksdb,faster,zonetree" };
        var keys = new Option<int>("--keys") { Description = "Distinct keys (choose more than the cache holds).", DefaultValueFactory = _ => 1_000_000 };
        var ops = new Option<int>("--ops") { Description = "Random gets, and then as many random updates.", DefaultValueFactory = _ => 1_000_000 };
        var cacheMb = new Option<int>("--cache-mb") { Description = "Memory budget of each store (MiB).", DefaultValueFactory = _ => 8 };
        var runs = new Option<int>("--runs") { Description = "Runs per store (the medians are printed).", DefaultValueFactory = _ => 3 };
        var valueBytes = new Option<int>("--value-bytes")
        {
            Description = "Size of each value: 8 is the bare counter (compresses to almost nothing); more adds incompressible random bytes (faster: 8 only).",
            DefaultValueFactory = _ => 8,
        };
        var dir = new Option<string?>("--dir") { Description = "Where the stores' files go (default: a temp directory)." };
        var command = new Command("state", "Embedded key-value stores for the Streams on-disk state backend: put, get, update of a keyed counter.")
        {
            stores, keys, ops, cacheMb, runs, valueBytes, dir,
        };
        command.SetAction(parse =>
        {
            var names = parse.GetValue(stores)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string root = parse.GetValue(dir) ?? Path.Combine(Path.GetTempPath(), $"quill-perf-state-{Environment.ProcessId}");
            var options = new StatePerfOptions("", parse.GetValue(keys), parse.GetValue(ops), parse.GetValue(cacheMb), parse.GetValue(runs), root, 17, parse.GetValue(valueBytes));
            if (options.ValueBytes < 8 || options.Keys < 1 || options.Ops < 1 || options.CacheMb < 1 || options.Runs < 1 || names.Any(n => !StatePerf.Stores.Contains(n)))
            {
                Console.Error.WriteLine("quill perf state: --keys, --ops, --cache-mb and --runs must be at least 1, --value-bytes at least 8; stores are rocksdb, faster, zonetree");
                return ExitCodes.BadConfig;
            }
            Directory.CreateDirectory(root);
            try
            {
                foreach (var name in names)
                {
                    var results = new List<StatePerfRun>();
                    for (int run = 0; run < options.Runs; run++)
                    {
                        var result = StatePerf.Run(options, name, run);
                        Console.WriteLine($"{name} run {run + 1}: " + string.Join(' ', result.Phases.Select(p => $"{p.Name}={p.OpsPerSecond:0}/s")));
                        results.Add(result);
                    }
                    Console.WriteLine(StatePerf.Summary(name, options, results));
                }
                return ExitCodes.Ok;
            }
            finally
            {
                if (parse.GetValue(dir) is null) try { Directory.Delete(root, true); } catch (IOException) { }
            }
        });
        return command;
    }
}
