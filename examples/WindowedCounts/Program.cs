using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.WindowedCounts;

var arguments = ExampleArguments.Parse(args, "WindowedCounts", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "windowed-counts"));
var window = TimeSpan.FromMilliseconds(ExampleArguments.Int(arguments, "--window-ms", 60_000));
var outOfOrderness = TimeSpan.FromMilliseconds(ExampleArguments.Int(arguments, "--out-of-orderness-ms", 5_000));
// 0 turns idleness off: a partition without records then holds event time back until it gets one.
int idlenessMs = ExampleArguments.Int(arguments, "--idleness-ms", 30_000);
WindowedCountsJob.Define(job, arguments["--input"], arguments["--output"], window, outOfOrderness,
    idlenessMs > 0 ? TimeSpan.FromMilliseconds(idlenessMs) : null);
return await ExampleArguments.RunUntilCtrlCAsync(job);
