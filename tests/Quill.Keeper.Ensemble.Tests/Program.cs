using System.Globalization;
using Quill.Keeper.Ensemble.Tests;
using Quill.Keeper.Ensemble.Tests.Checking;
using Quill.Keeper.Ensemble.Tests.Faults;
using Quill.Keeper.Ensemble.Tests.Harness;
using Quill.Keeper.Ensemble.Tests.History;

// The long form of the fault tests (scripts/keeper-fault-test.sh), outside the test runner:
//   fault-test --target zookeeper|keeper --duration SECONDS --faults kill,kill-follower,pause,partition|none [--servers N]
//              [--workers N] [--seed N]
//   check HISTORY.jsonl
// Exit code: 0 the history checks clean, 1 it does not (the report says why), 2 the run itself failed.
const string Usage = "usage: fault-test --target zookeeper|keeper --duration SECONDS --faults kill,kill-follower,pause,partition|none " +
                     "[--servers N] [--workers N] [--seed N] [--check-budget SECONDS]\n       check HISTORY.jsonl [--check-budget SECONDS]";

if (args.Length == 0) return Fail(Usage);
var options = new Dictionary<string, string>(StringComparer.Ordinal);
var positional = new List<string>();
for (int i = 1; i < args.Length; i++)
{
    if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length) options[args[i][2..]] = args[++i];
    else positional.Add(args[i]);
}
var budget = TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("check-budget", "120"), CultureInfo.InvariantCulture));

try
{
    switch (args[0])
    {
        case "check" when positional.Count == 1:
            var report = HistoryChecker.Check(HistoryFile.Read(positional[0]), budget);
            Console.WriteLine(report);
            return report.Valid ? 0 : 1;
        case "fault-test":
            var kind = options.GetValueOrDefault("target", "zookeeper") switch
            {
                "zookeeper" => EnsembleKind.ApacheZooKeeper,
                "keeper" => EnsembleKind.Keeper,
                var other => throw new ArgumentException($"unknown target '{other}': zookeeper or keeper"),
            };
            var run = new FaultRunOptions(kind, TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("duration", "60"), CultureInfo.InvariantCulture)),
                Nemesis.Parse(options.GetValueOrDefault("faults", "kill,pause")))
            {
                Servers = int.Parse(options.GetValueOrDefault("servers", "3"), CultureInfo.InvariantCulture),
                Workers = int.Parse(options.GetValueOrDefault("workers", "6"), CultureInfo.InvariantCulture),
                Seed = options.TryGetValue("seed", out var seed) ? int.Parse(seed, CultureInfo.InvariantCulture) : Environment.TickCount & 0xFFFF,
                CheckBudgetPerKey = budget,
                KeepFiles = true,
            };
            var result = await FaultRun.RunAsync(run, line => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}"));
            Console.WriteLine(result);
            return result.Valid ? 0 : 1;
        default:
            return Fail(Usage);
    }
}
catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or TimeoutException or IOException)
{
    return Fail(e.ToString());
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}
