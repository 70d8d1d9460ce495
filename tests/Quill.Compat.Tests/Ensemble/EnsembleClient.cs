using System.Collections.Concurrent;
using System.Diagnostics;
using Quill.Testing;

namespace Quill.Compat.Tests.Ensemble;

/// <summary>scripts/ensemble_client.py (kazoo) as a running process whose lines the test reads as they come.</summary>
public sealed class EnsembleClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly System.Text.StringBuilder _all = new();

    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "scripts", "ensemble_client.py");

    private EnsembleClient(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is { } l) { lock (_all) _all.AppendLine(l); _lines.Add(l); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (_all) _all.AppendLine("stderr: " + l); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Everything it printed, stderr included, for failure messages.</summary>
    public string Transcript
    {
        get { lock (_all) return _all.ToString(); }
    }

    public int Pid => _process.Id;

    /// <summary>Also fires for every line, on the reader's thread.</summary>
    public event Action<string>? Line;

    public static async Task<EnsembleClient> StartAsync(params string[] args)
    {
        // Fails with how to install kazoo when it is missing.
        await ToolRunner.RunKazooAsync("import kazoo");
        var start = new ProcessStartInfo(ToolRunner.Python) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ScriptPath);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PYTHONUNBUFFERED"] = "1";
        var client = new EnsembleClient(Process.Start(start)!);
        return client;
    }

    public EnsembleClient WithLineHandler(Action<string> handler)
    {
        Line += handler;
        return this;
    }

    /// <summary>The next line that satisfies <paramref name="match"/> (lines before it are skipped).</summary>
    public string WaitForLine(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || !_lines.TryTake(out var line, left))
                throw new TimeoutException($"no expected line from ensemble_client.py within {timeout}:\n{Transcript}");
            Line?.Invoke(line);
            if (match(line)) return line;
        }
    }

    public void WriteLine(string text)
    {
        _process.StandardInput.WriteLine(text);
        _process.StandardInput.Flush();
    }

    /// <summary>Closes stdin (the writer's signal to stop) and waits for the process to end.</summary>
    public async Task<string> FinishAsync(TimeSpan timeout)
    {
        _process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"ensemble_client.py did not finish within {timeout}:\n{Transcript}"); }
        _process.WaitForExit();
        while (_lines.TryTake(out var line)) Line?.Invoke(line);
        return Transcript;
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
