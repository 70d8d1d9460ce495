using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.WordCount;

// --scale-out (with --keeper): the job runs spread over every instance started so, not in the leader alone;
// --data-host HOST: the address this instance takes the others' records on (default 127.0.0.1).
var arguments = ExampleArguments.Parse(args, "WordCount", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "word-count"));
WordCountJob.Define(job, arguments["--input"], arguments["--output"]);
return await ExampleArguments.RunUntilCtrlCAsync(job);
