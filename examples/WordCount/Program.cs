using Quill.Streams.Api;
using Quill.Streams.Examples;
using Quill.Streams.Examples.WordCount;

// --scale-out (with --keeper): the job runs spread over every instance started so, not in the leader alone;
// --data-host HOST: the address this instance takes the others' records on (default 127.0.0.1).
bool scaleOut = args.Contains("--scale-out");
var arguments = ExampleArguments.Parse([.. args.Where(a => a != "--scale-out")], "WordCount", "--bootstrap-server", "--input", "--output");
if (arguments is null) return 2;

var options = ExampleArguments.JobOptions(arguments, "word-count");
if (scaleOut) options = WithScaleOut(options, arguments.GetValueOrDefault("--data-host") ?? "127.0.0.1");
var job = StreamJob.Create(options);
WordCountJob.Define(job, arguments["--input"], arguments["--output"]);
return await ExampleArguments.RunUntilCtrlCAsync(job);

static StreamJobOptions WithScaleOut(StreamJobOptions options, string dataHost)
{
    var ha = options.HighAvailability ?? throw new ArgumentException("--scale-out needs --keeper (the instances find each other through it)");
    return new StreamJobOptions
    {
        BootstrapServers = options.BootstrapServers, JobName = options.JobName, Parallelism = options.Parallelism,
        CheckpointDirectory = options.CheckpointDirectory, CheckpointInterval = options.CheckpointInterval,
        DeliveryGuarantee = options.DeliveryGuarantee, StateBackend = options.StateBackend, RetainedCheckpoints = options.RetainedCheckpoints,
        SavepointDirectory = options.SavepointDirectory, FromSavepoint = options.FromSavepoint, AllowNonRestoredState = options.AllowNonRestoredState,
        HighAvailability = new HighAvailabilityOptions
        {
            Keeper = ha.Keeper, JobId = ha.JobId, Root = ha.Root, InstanceId = ha.InstanceId, SessionTimeout = ha.SessionTimeout, Log = ha.Log,
            ScaleOut = true, DataHost = dataHost,
        },
    };
}
