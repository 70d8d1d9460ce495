using System.Runtime.InteropServices;
using Quill.Streams.Api;

namespace Quill.Streams.Examples;

/// <summary>The examples' command lines (--name value pairs, and flags) and their run-until-Ctrl+C loop.</summary>
internal static class ExampleArguments
{
    /// <summary>Options that take no value; present means "true".</summary>
    private static readonly string[] Flags = ["--exactly-once", "--at-least-once", "--allow-non-restored-state", "--scale-out"];

    public static Dictionary<string, string>? Parse(string[] args, string example, params string[] required)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var pairs = args.Where(a => !Flags.Contains(a)).ToArray();
        foreach (string flag in Flags.Where(args.Contains)) values[flag] = "true";
        for (int i = 0; i + 1 < pairs.Length; i += 2) values[pairs[i]] = pairs[i + 1];
        var missing = required.Where(r => !values.ContainsKey(r)).ToList();
        bool bothGuarantees = values.ContainsKey("--exactly-once") && values.ContainsKey("--at-least-once");
        if (pairs.Length % 2 == 0 && missing.Count == 0 && !bothGuarantees) return values;
        if (bothGuarantees) Console.Error.WriteLine("--exactly-once and --at-least-once: choose one");
        Console.Error.WriteLine($"usage: {example} {string.Join(' ', required.Select(r => $"{r} VALUE"))} [--parallelism N] [--job-name NAME]"
            + " [--checkpoint-dir DIR] [--checkpoint-interval-ms MS] [--retained-checkpoints N] [--at-least-once]"
            + " [--state-backend memory|disk --state-dir DIR [--state-cache-mb MB]]"
            + " [--keeper HOST:PORT [--job-id ID] [--ha-root PATH] [--ha-session-timeout-ms MS] [--instance-id NAME] [--scale-out [--data-host HOST]]]"
            + " [--savepoint-dir DIR] [--from-savepoint PATH [--allow-non-restored-state]]");
        return null;
    }

    /// <summary>
    /// The job's options from the common arguments. An example is exactly-once and checkpoints by default (every 5 s, into
    /// <see cref="DefaultCheckpointDirectory"/> unless --checkpoint-dir says where), so that its plain command line writes
    /// each result once and a restart carries on from the last checkpoint; --at-least-once is the cheaper mode (output
    /// at once, records after the last checkpoint written again after a crash). --job-name NAME (default: the example's)
    /// names its consumer group, transactions and default checkpoint folder: two runs of one example on other topics
    /// need different names. --scale-out (with --keeper): the job runs spread over every instance started so, not in the
    /// leader alone; --data-host HOST: the address this instance takes the others' records on (default 127.0.0.1).
    /// </summary>
    public static StreamJobOptions JobOptions(Dictionary<string, string> values, string defaultJobName)
    {
        string jobName = values.GetValueOrDefault("--job-name", defaultJobName);
        return Options(values, jobName, values.GetValueOrDefault("--checkpoint-dir") ?? DefaultCheckpointDirectory(values, jobName));
    }

    /// <summary>
    /// The checkpoint folder when no --checkpoint-dir is given: the job's under the user's data folder; for a start from a
    /// savepoint, a folder of that start's own (a job restores its newest checkpoint before any savepoint, so the job's
    /// usual folder would hide the savepoint; a restart after a crash still finds this start's checkpoints). Instances
    /// under --keeper need a folder every instance reads: no default there.
    /// </summary>
    private static string DefaultCheckpointDirectory(Dictionary<string, string> values, string jobName)
    {
        if (values.ContainsKey("--keeper"))
            throw new ArgumentException("--keeper needs --checkpoint-dir DIR: a folder every instance of the job reads (a standby restores from it)");
        string folder = DefaultCheckpointDirectory(jobName);
        return values.TryGetValue("--from-savepoint", out string? savepoint)
            ? $"{folder}-from-{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(savepoint)))}"
            : folder;
    }

    private static StreamJobOptions Options(Dictionary<string, string> values, string jobName, string checkpointDirectory) => new()
    {
        BootstrapServers = values["--bootstrap-server"],
        JobName = jobName,
        Parallelism = Int(values, "--parallelism", 1),
        CheckpointDirectory = checkpointDirectory,
        CheckpointInterval = TimeSpan.FromMilliseconds(Int(values, "--checkpoint-interval-ms", 5_000)),
        DeliveryGuarantee = values.ContainsKey("--at-least-once") ? DeliveryGuarantee.AtLeastOnce : DeliveryGuarantee.ExactlyOnce,
        StateBackend = StateBackendOf(values),
        RetainedCheckpoints = Int(values, "--retained-checkpoints", 2),
        SavepointDirectory = values.GetValueOrDefault("--savepoint-dir"),
        FromSavepoint = values.GetValueOrDefault("--from-savepoint"),
        AllowNonRestoredState = values.ContainsKey("--allow-non-restored-state"),
        HighAvailability = values.TryGetValue("--keeper", out string? keeper)
            ? new HighAvailabilityOptions
            {
                Keeper = keeper,
                JobId = values.GetValueOrDefault("--job-id"),
                Root = values.GetValueOrDefault("--ha-root") ?? "/quill-streams",
                InstanceId = values.GetValueOrDefault("--instance-id"),
                SessionTimeout = TimeSpan.FromMilliseconds(Int(values, "--ha-session-timeout-ms", 5_000)),
                Log = line => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}"),
                ScaleOut = values.ContainsKey("--scale-out"),
                DataHost = values.GetValueOrDefault("--data-host") ?? "127.0.0.1",
            }
            : values.ContainsKey("--scale-out") ? throw new ArgumentException("--scale-out needs --keeper (the instances find each other through it)")
            : null,
    };

    /// <summary>
    /// Where an example checkpoints when no --checkpoint-dir is given: quill/streams/JOB in the user's local data folder
    /// ($XDG_DATA_HOME, else ~/.local/share, on Linux), which outlives a reboot, unlike the temp folder.
    /// </summary>
    public static string DefaultCheckpointDirectory(string jobName)
    {
        string data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return Path.Combine(data.Length > 0 ? data : Path.GetTempPath(), "quill", "streams", jobName);
    }

    /// <summary>--state-backend memory (the default) or disk (with --state-dir, and --state-cache-mb, default 64).</summary>
    public static Quill.Streams.State.StateBackend StateBackendOf(Dictionary<string, string> values) =>
        values.GetValueOrDefault("--state-backend", "memory") switch
        {
            "memory" => Quill.Streams.State.StateBackend.InMemory,
            "disk" => Quill.Streams.State.StateBackend.OnDisk(
                values.GetValueOrDefault("--state-dir") ?? throw new ArgumentException("--state-backend disk needs --state-dir DIR"),
                (long)Int(values, "--state-cache-mb", 64) << 20),
            var other => throw new ArgumentException($"--state-backend is memory or disk, not {other}"),
        };

    public static int Int(Dictionary<string, string> values, string name, int defaultValue) =>
        values.TryGetValue(name, out string? text) ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : defaultValue;

    public static async Task<int> RunUntilCtrlCAsync(StreamJob job)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        // SIGTERM (what a service manager sends) stops the job the same way, instead of ending the process at once.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        var options = job.Options;
        Console.WriteLine($"{options.JobName} running (parallelism {options.Parallelism}, "
            + (options.DeliveryGuarantee == DeliveryGuarantee.ExactlyOnce ? "exactly-once: results appear to read_committed readers as each checkpoint completes" : "at-least-once")
            + $", checkpoints every {options.CheckpointInterval.TotalSeconds:0.###} s in {options.CheckpointDirectory}); Ctrl+C stops it");
        await job.RunAsync(stop.Token);
        Console.WriteLine($"{job.Options.JobName} stopped");
        return 0;
    }
}
