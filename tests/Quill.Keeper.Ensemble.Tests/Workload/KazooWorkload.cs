using Quill.Testing;

namespace Quill.Keeper.Ensemble.Tests.Workload;

/// <summary>
/// Runs Workload/workload.py (kazoo under /usr/bin/python3) against an ensemble. <see cref="RunAsync"/> resets the
/// keys and records random operations for a while, worker i pinned to server i mod N; <see cref="FinalReadsAsync"/>
/// appends each server's synced reads of every key and listings, once the faults are healed.
/// </summary>
public static class KazooWorkload
{
    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "Workload", "workload.py");

    public static Task RunAsync(IReadOnlyList<string> servers, string historyPath, TimeSpan duration, int workers, int seed) =>
        RunScriptAsync(
            ["run", "--hosts", string.Join(',', servers), "--out", historyPath, "--duration", Seconds(duration),
                "--workers", workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            duration + TimeSpan.FromSeconds(120));

    public static Task FinalReadsAsync(IReadOnlyList<string> servers, string historyPath) =>
        RunScriptAsync(["final", "--hosts", string.Join(',', servers), "--out", historyPath], TimeSpan.FromSeconds(120));

    private static async Task RunScriptAsync(string[] args, TimeSpan timeout)
    {
        // Fails with the install command when kazoo is missing.
        var probe = await ToolRunner.RunKazooAsync("import kazoo");
        if (!probe.Succeeded) throw new InvalidOperationException($"kazoo is not usable: apt-get install python3-kazoo\n{probe}");
        var result = await ToolRunner.RunAsync(ToolRunner.Python, new[] { ScriptPath }.Concat(args), timeout: timeout,
            environment: new Dictionary<string, string> { ["PYTHONUNBUFFERED"] = "1", ["PYTHONDONTWRITEBYTECODE"] = "1" });
        if (!result.Succeeded) throw new InvalidOperationException($"the workload failed:\n{result}");
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}
