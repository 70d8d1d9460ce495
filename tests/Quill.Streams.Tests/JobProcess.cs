using System.Diagnostics;
using System.Text;
using Quill.Testing;

namespace Quill.Streams.Tests;

/// <summary>An example job (its dll copied next to the tests) run as a real process, so that it can be killed with SIGKILL.</summary>
public sealed class JobProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    private JobProcess(Process process) => _process = process;

    public static JobProcess Start(string example, params string[] arguments) => Start(example, new Dictionary<string, string>(), arguments);

    /// <summary>As the other Start, with <paramref name="environment"/> added to the process's environment.</summary>
    public static JobProcess Start(string example, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, example + ".dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} not found: the test project must reference examples/{example}.");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var process = new Process { StartInfo = start };
        var job = new JobProcess(process);
        process.OutputDataReceived += (_, e) => job.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => job.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return job;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Completes if the process exits (a job that should keep running failed).</summary>
    public Task Exited => _process!.WaitForExitAsync().ContinueWith(_ => throw new InvalidOperationException($"the job exited:\n{Output}"));

    /// <summary>SIGSTOP (<paramref name="pause"/>) or SIGCONT: the process is frozen (its sessions and connections go quiet) or goes on.</summary>
    public async Task SignalPauseAsync(bool pause) => await SignalAsync(pause ? "-STOP" : "-CONT");

    private async Task SignalAsync(string signal)
    {
        var process = _process ?? throw new InvalidOperationException("the job was killed");
        using var kill = Process.Start("kill", [signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGTERM: the job stops cleanly. Waits for the process to end; returns its exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        var process = _process ?? throw new InvalidOperationException("the job was killed");
        await SignalAsync("-TERM");
        await process.WaitForExitAsync().WaitAsync(Kafka.Timeout);
        return process.ExitCode;
    }

    /// <summary>SIGKILL: no clean stop, nothing flushed or committed.</summary>
    public void Kill() => ProcessKiller.KillAndWait(ref _process);

    public void Dispose() => Kill();
}
