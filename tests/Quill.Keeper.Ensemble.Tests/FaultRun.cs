using System.Diagnostics;
using System.Text;
using Quill.Keeper.Ensemble.Tests.Checking;
using Quill.Keeper.Ensemble.Tests.Faults;
using Quill.Keeper.Ensemble.Tests.Harness;
using Quill.Keeper.Ensemble.Tests.History;
using Quill.Keeper.Ensemble.Tests.Workload;

namespace Quill.Keeper.Ensemble.Tests;

/// <summary>What a fault run is: which servers, how long the workload runs, which faults, how hard it checks.</summary>
public sealed record FaultRunOptions(EnsembleKind Kind, TimeSpan Duration, FaultKinds Faults)
{
    public int Servers { get; init; } = 3;
    public int Workers { get; init; } = 6;
    public int Seed { get; init; } = Environment.TickCount;
    /// <summary>How long the linearizability search may take per key before it answers Unknown.</summary>
    public TimeSpan CheckBudgetPerKey { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Keep the temp directory (history, configs, logs) even when the history checks clean.</summary>
    public bool KeepFiles { get; init; }
}

/// <summary>The outcome of a fault run; <see cref="ToString"/> is the report.</summary>
public sealed record FaultRunResult(FaultRunOptions Options, CheckReport Report, IReadOnlyList<NemesisEvent> Events, long StartNs, string Directory, string Diagnostics)
{
    public bool Valid => Report.Valid;

    /// <summary>The index of the server an op went to: each worker's client is pinned to one server.</summary>
    public int ServerOf(Operation op) =>
        op.IsFinal ? (int)(op.Process - HistoryFile.FinalProcessBase) : (int)(op.Process % Options.Workers % Options.Servers);

    public override string ToString()
    {
        var text = new StringBuilder()
            .AppendLine($"{Options.Kind}, {Options.Servers} servers, {Options.Duration.TotalSeconds:F0} s, faults {Options.Faults}, " +
                        $"{Options.Workers} workers, seed {Options.Seed}; files in {Directory}");
        foreach (var e in Events) text.AppendLine($"  {(e.TimeNs - StartNs) / 1e6,10:F1} ms  {e.What}");
        text.Append(Report);
        foreach (var key in Report.Keys.Where(k => k.Violation is not null && k.Verdict == Verdict.NotLinearizable))
            text.Append(AroundViolation(key.Key, key.Violation!));
        if (!Valid) text.AppendLine(Diagnostics);
        return text.ToString();
    }

    /// <summary>Where the op that could not be placed was sent, and the faults shortly before and during it.</summary>
    private string AroundViolation(string key, Violation violation)
    {
        var op = violation.Blocked;
        long from = op.InvokedNs - 20_000_000_000L, to = (op.CompletedNs ?? op.InvokedNs) + 1_000_000_000L;
        int server = ServerOf(op) + 1;
        var text = new StringBuilder($"{key}: #{op.Id} (p{op.Process}) went to server {server}; faults from 20 s before it to its end:\n");
        foreach (var e in Events.Where(e => e.TimeNs - StartNs >= from && e.TimeNs - StartNs <= to))
            text.AppendLine($"  {(e.TimeNs - StartNs) / 1e6,10:F1} ms  {e.What}");
        return text.ToString();
    }
}

/// <summary>
/// One run end to end: start the ensemble, run the workload with the nemesis beside it, heal, take the final reads,
/// check the history. The ensemble is always disposed (its processes killed); its directory is kept when the history
/// does not check clean or the run fails, and the server logs go into the result or the exception.
/// </summary>
public static class FaultRun
{
    public static async Task<FaultRunResult> RunAsync(FaultRunOptions options, Action<string> log)
    {
        log($"starting {options.Servers} {options.Kind} servers");
        var ensemble = await EnsembleProcess.StartAsync(options.Kind, options.Servers,
            networkFaults: (options.Faults & FaultKinds.Partition) != FaultKinds.None);
        try
        {
            var servers = ensemble.Members.Select(m => m.ConnectString).ToList();
            string historyPath = Path.Combine(ensemble.Directory, "history.jsonl");
            var nemesis = new Nemesis(ensemble, options.Faults, options.Seed, log);
            log($"workload: {options.Workers} workers for {options.Duration.TotalSeconds:F0} s, history in {historyPath}");
            var workload = KazooWorkload.RunAsync(servers, historyPath, options.Duration, options.Workers, options.Seed);
            // The faults start once the workload records its first op: on a busy machine python, kazoo and the reset
            // can take longer than the nemesis's first quiet spell, and a fault before any op tests nothing.
            var sinceWorkloadStart = await WaitForFirstOpAsync(historyPath, workload);
            // The nemesis stops a little before the workload so the last ops run on a healed ensemble.
            var faults = nemesis.RunAsync(options.Duration - TimeSpan.FromSeconds(2) - sinceWorkloadStart);
            await Task.WhenAll(workload, faults);
            await ensemble.WaitForQuorumAsync(TimeSpan.FromSeconds(90));
            log("final reads");
            await KazooWorkload.FinalReadsAsync(servers, historyPath);

            log("checking");
            var history = HistoryFile.Parse(File.ReadLines(historyPath), out long startNs);
            var report = HistoryChecker.Check(history, options.CheckBudgetPerKey);
            ensemble.KeepFiles = options.KeepFiles || !report.Valid;
            string diagnostics = report.Valid ? "" : ensemble.Diagnostics();
            return new FaultRunResult(options, report, nemesis.Events, startNs, ensemble.Directory, diagnostics);
        }
        catch (Exception e)
        {
            ensemble.KeepFiles = true;
            throw new InvalidOperationException($"the fault run failed: {e.Message}\n{ensemble.Diagnostics()}", e);
        }
        finally
        {
            await ensemble.DisposeAsync();
        }
    }

    /// <summary>
    /// Waits until the history has its first line (or the workload has ended) and returns how long ago the workload
    /// opened the history, which is when its duration started.
    /// </summary>
    private static async Task<TimeSpan> WaitForFirstOpAsync(string historyPath, Task workload)
    {
        Stopwatch? sinceOpened = null;
        while (!workload.IsCompleted)
        {
            if (sinceOpened is null && File.Exists(historyPath)) sinceOpened = Stopwatch.StartNew();
            if (sinceOpened is not null && new FileInfo(historyPath).Length > 0) break;
            await Task.Delay(50);
        }
        return sinceOpened?.Elapsed ?? TimeSpan.Zero;
    }
}
