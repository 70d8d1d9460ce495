using Quill.Streams.Api;
using Quill.Streams.Examples;

var arguments = ExampleArguments.Parse(args, "SeedJob", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "seed-job"));
Quill.Streams.Examples.SeedJob.SeedJob.Define(job, arguments["--input"], arguments["--output"]);
return await ExampleArguments.RunUntilCtrlCAsync(job);
