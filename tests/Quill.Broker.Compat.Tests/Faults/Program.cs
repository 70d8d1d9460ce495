using System.Globalization;
using Quill.Broker.Compat.Tests.Faults;

// The long form of the broker fault test (scripts/broker-fault-test.sh), outside the test runner:
//   fault-test --duration SECONDS --faults kill,pause,controller,partition,restart|none [--seed N] [--partitions N]
//              [--writers N] [--readers N] [--nemeses N]
// Exit code: 0 the history checks clean, 1 it does not (the report says why), 2 the run itself failed.
const string Usage = "usage: fault-test --duration SECONDS --faults kill,pause,controller,partition,restart|none [--seed N] " +
                     "[--partitions N] [--writers N] [--readers N] [--nemeses N]";

if (args.Length == 0 || args[0] != "fault-test") return Fail(Usage);
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 1; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) return Fail(Usage);
    options[args[i][2..]] = args[++i];
}

try
{
    int Int(string name, int fallback) => options.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    var run = new BrokerFaultRunOptions(TimeSpan.FromSeconds(double.Parse(options.GetValueOrDefault("duration", "120"), CultureInfo.InvariantCulture)),
        BrokerNemesis.Parse(options.GetValueOrDefault("faults", "kill,pause,controller,partition,restart")))
    {
        Seed = Int("seed", Environment.TickCount & 0xFFFF),
        Partitions = Int("partitions", 6),
        Writers = Int("writers", 3),
        Readers = Int("readers", 2),
        Nemeses = Int("nemeses", 1),
        KeepFiles = true,
    };
    var result = await BrokerFaultRun.RunAsync(run, line => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}"));
    Console.WriteLine(result);
    return result.Valid ? 0 : 1;
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
