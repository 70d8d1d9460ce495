using Quill.Streams.Streamiz.Bench;

// The Streamiz.Kafka.Net side of `quill perf streams`: runs one topology until standard input closes or SIGTERM.
//   Quill.Streams.Streamiz.Bench --topology map|count|window --bootstrap-server HOST:PORT --input T --output T
//       --application-id ID [--threads N] [--exactly-once] [--window-ms MS] [--grace-ms MS]
var arguments = new Dictionary<string, string>();
var flags = new HashSet<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--exactly-once") flags.Add(args[i]);
    else if (i + 1 < args.Length) arguments[args[i]] = args[++i];
}
string[] required = ["--topology", "--bootstrap-server", "--input", "--output", "--application-id"];
if (required.Any(r => !arguments.ContainsKey(r)) || arguments["--topology"] is not ("map" or "count" or "window"))
{
    Console.Error.WriteLine("usage: Quill.Streams.Streamiz.Bench --topology map|count|window --bootstrap-server HOST:PORT --input TOPIC " +
                            "--output TOPIC --application-id ID [--threads N] [--exactly-once] [--window-ms MS] [--grace-ms MS]");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
_ = Task.Run(() =>
{
    // The benchmark closes our standard input to stop us.
    while (Console.In.ReadLine() is not null) { }
    stop.Cancel();
});

var options = new BenchTopologies.Options(arguments["--bootstrap-server"], arguments["--input"], arguments["--output"],
    arguments["--application-id"], arguments.TryGetValue("--threads", out var t) ? int.Parse(t) : 1, flags.Contains("--exactly-once"),
    arguments.TryGetValue("--window-ms", out var w) ? long.Parse(w) : 1000, arguments.TryGetValue("--grace-ms", out var g) ? long.Parse(g) : 1000);
await BenchTopologies.RunAsync(arguments["--topology"], options, stop.Token);
return 0;
