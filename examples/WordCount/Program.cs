using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.WordCount;

var arguments = ExampleArguments.Parse(args, "WordCount", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(new StreamJobOptions
{
    BootstrapServers = arguments["--bootstrap-server"],
    JobName = "word-count",
    Parallelism = ExampleArguments.Int(arguments, "--parallelism", 1),
    CheckpointDirectory = arguments.GetValueOrDefault("--checkpoint-dir"),
    CheckpointInterval = TimeSpan.FromMilliseconds(ExampleArguments.Int(arguments, "--checkpoint-interval-ms", 10_000)),
});
WordCountJob.Define(job, arguments["--input"], arguments["--output"]);
return await ExampleArguments.RunUntilCtrlCAsync(job);
