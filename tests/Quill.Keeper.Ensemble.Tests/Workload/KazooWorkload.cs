using System.Diagnostics;
using System.Globalization;
using System.Text;
using Quill.Keeper.Ensemble.Tests.Harness;
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
            ["run", "--hosts", string.Join(',', servers), "--out", historyPath, "--duration", duration.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture),
                "--workers", workers.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture)],
            duration + TimeSpan.FromSeconds(120));

    public static Task FinalReadsAsync(IReadOnlyList<string> servers, string historyPath) =>
        RunScriptAsync(["final", "--hosts", string.Join(',', servers), "--out", historyPath], TimeSpan.FromSeconds(120));

    private static async Task RunScriptAsync(string[] args, TimeSpan timeout)
    {
        // Fails with the install command when python3 or kazoo is missing.
        await ToolRunner.RunKazooAsync("import kazoo");
        var start = new ProcessStartInfo(ToolRunner.Python)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { ScriptPath }.Concat(args)) start.ArgumentList.Add(arg);
        start.Environment["PYTHONUNBUFFERED"] = "1";
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        // Killed with the servers if this process is interrupted.
        ChildProcesses.Add(process);
        try
        {
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync();
                throw new TimeoutException($"the workload ({string.Join(' ', args.Take(1))}) did not end within {timeout}:\n{output}");
            }
            process.WaitForExit(); // the last output lines
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"the workload ({string.Join(' ', args)}) exited with {process.ExitCode}:\n{output}");
        }
        finally
        {
            ChildProcesses.Remove(process);
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null) return;
        lock (output)
        {
            if (output.Length < 64 * 1024) output.AppendLine(line);
        }
    }
}
