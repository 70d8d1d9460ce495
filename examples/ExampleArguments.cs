using System.Runtime.InteropServices;
using Quill.Streams.Api;

namespace Quill.Streams.Examples;

/// <summary>The examples' command lines (--name value pairs, and flags) and their run-until-Ctrl+C loop.</summary>
internal static class ExampleArguments
{
    /// <summary>Options that take no value; present means "true".</summary>
    private static readonly string[] Flags = ["--exactly-once", "--allow-non-restored-state", "--scale-out"];

    public static Dictionary<string, string>? Parse(string[] args, string example, params string[] required)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var pairs = args.Where(a => !Flags.Contains(a)).ToArray();
        foreach (string flag in Flags.Where(args.Contains)) values[flag] = "true";
        for (int i = 0; i + 1 < pairs.Length; i += 2) values[pairs[i]] = pairs[i + 1];
        var missing = required.Where(r => !values.ContainsKey(r)).ToList();
        if (pairs.Length % 2 == 0 && missing.Count == 0) return values;
        Console.Error.WriteLine($"usage: {example} {string.Join(' ', required.Select(r => $"{r} VALUE"))} [--parallelism N]"
            + " [--checkpoint-dir DIR [--checkpoint-interval-ms MS] [--retained-checkpoints N] [--exactly-once]]"
            + " [--state-backend memory|disk --state-dir DIR [--state-cache-mb MB]]"
            + " [--keeper HOST:PORT [--job-id ID] [--ha-root PATH] [--ha-session-timeout-ms MS] [--instance-id NAME] [--scale-out [--data-host HOST]]]"
            + " [--savepoint-dir DIR] [--from-savepoint PATH [--allow-non-restored-state]]");
        return null;
    }

    /// <summary>
    /// The job's options from the common arguments (--exactly-once needs --checkpoint-dir). --scale-out (with --keeper):
    /// the job runs spread over every instance started so, not in the leader alone; --data-host HOST: the address this
    /// instance takes the others' records on (default 127.0.0.1).
    /// </summary>
    public static StreamJobOptions JobOptions(Dictionary<string, string> values, string jobName) => new()
    {
        BootstrapServers = values["--bootstrap-server"],
        JobName = jobName,
        Parallelism = Int(values, "--parallelism", 1),
        CheckpointDirectory = values.GetValueOrDefault("--checkpoint-dir"),
        CheckpointInterval = TimeSpan.FromMilliseconds(Int(values, "--checkpoint-interval-ms", 10_000)),
        DeliveryGuarantee = values.ContainsKey("--exactly-once") ? DeliveryGuarantee.ExactlyOnce : DeliveryGuarantee.AtLeastOnce,
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
        Console.WriteLine($"{job.Options.JobName} running (parallelism {job.Options.Parallelism}); Ctrl+C stops it");
        await job.RunAsync(stop.Token);
        Console.WriteLine($"{job.Options.JobName} stopped");
        return 0;
    }
}
