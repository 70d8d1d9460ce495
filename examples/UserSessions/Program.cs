using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.UserSessions;

var arguments = ExampleArguments.Parse(args, "UserSessions", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var job = StreamJob.Create(ExampleArguments.JobOptions(arguments, "user-sessions"));
var gap = TimeSpan.FromMilliseconds(ExampleArguments.Int(arguments, "--gap-ms", 30_000));
UserSessionsJob.Define(job, arguments["--input"], arguments["--output"], gap);
return await ExampleArguments.RunUntilCtrlCAsync(job);
