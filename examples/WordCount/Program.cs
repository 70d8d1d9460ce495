using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.WordCount;

var arguments = ExampleArguments.Parse(args, "WordCount", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "word-count"));
WordCountJob.Define(job, arguments["--input"], arguments["--output"]);
return await ExampleArguments.RunUntilCtrlCAsync(job);
