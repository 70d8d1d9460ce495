using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.EnrichClicks;

var arguments = ExampleArguments.Parse(args, "EnrichClicks", "--bootstrap-server", "--input", "--table", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "enrich-clicks"));
EnrichClicksJob.Define(job, arguments["--input"], arguments["--table"], arguments["--output"]);
return await ExampleArguments.RunUntilCtrlCAsync(job);
