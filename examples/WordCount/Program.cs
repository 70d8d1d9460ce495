using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.WordCount;

var arguments = ExampleArguments.Parse(args, "WordCount", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(new StreamJobOptions
{
    BootstrapServers = arguments["--bootstrap-server"],
    JobName = "word-count",
    Parallelism = int.Parse(arguments.GetValueOrDefault("--parallelism", "1"), System.Globalization.CultureInfo.InvariantCulture),
});
WordCountJob.Define(job, arguments["--input"], arguments["--output"]);
return await ExampleArguments.RunUntilCtrlCAsync(job);
