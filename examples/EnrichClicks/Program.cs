using System.Globalization;
using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.EnrichClicks;

var arguments = ExampleArguments.Parse(args, "EnrichClicks", "--bootstrap-server", "--input", "--table", "--output");
if (arguments is null) return 2;

// --out-of-orderness-ms N: join by event time (the name at the click's time); --table-idleness-ms N (default 5000).
TimeSpan? Millis(string name) =>
    arguments.TryGetValue(name, out string? ms) ? TimeSpan.FromMilliseconds(long.Parse(ms, CultureInfo.InvariantCulture)) : null;
var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "enrich-clicks"));
EnrichClicksJob.Define(job, arguments["--input"], arguments["--table"], arguments["--output"], Millis("--out-of-orderness-ms"), Millis("--table-idleness-ms"));
return await ExampleArguments.RunUntilCtrlCAsync(job);
