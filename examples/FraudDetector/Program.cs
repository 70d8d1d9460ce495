using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.FraudDetector;

var arguments = ExampleArguments.Parse(args, "FraudDetector", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "fraud-detector"));
var window = TimeSpan.FromMilliseconds(ExampleArguments.Int(arguments, "--window-ms", 60_000));
FraudDetectorJob.Define(job, arguments["--input"], arguments["--output"], window);
return await ExampleArguments.RunUntilCtrlCAsync(job);
