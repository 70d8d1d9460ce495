using Quill.Testing;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>
/// One server of an <see cref="EnsembleProcess"/>: its ports, its directory (zoo.cfg, data/myid, logs) and its
/// process, which it starts, kills (SIGKILL), pauses (SIGSTOP) and resumes (SIGCONT) by PID.
/// </summary>
public sealed class EnsembleMember
{
    private readonly object _gate = new();
    private Process? _process;
    private StreamWriter? _output;

    internal EnsembleMember(int id, int clientPort, int quorumPort, int electionPort, string directory)
    {
        Id = id;
        ClientPort = clientPort;
        QuorumPort = quorumPort;
        ElectionPort = electionPort;
        Directory = directory;
    }

    /// <summary>The server id (server.N and myid), from 1.</summary>
    public int Id { get; }
    public int ClientPort { get; }
    public int QuorumPort { get; }
    public int ElectionPort { get; }
    public string Directory { get; }
    public string DataDir => Path.Combine(Directory, "data");
    public string ConfigPath => Path.Combine(Directory, "zoo.cfg");
    /// <summary>What the process printed (Keeper logs to the console).</summary>
    public string OutputLog => Path.Combine(Directory, "output.log");
    /// <summary>ZooKeeper's own log file (log4j).</summary>
    public string ServerLog => Path.Combine(Directory, "zookeeper.log");
    public string ConnectString => $"127.0.0.1:{ClientPort}";
    public bool IsRunning => _process is { HasExited: false };
    public bool IsPaused { get; private set; }
    public int? Pid => IsRunning ? _process!.Id : null;

    /// <summary>The server's line in zoo.cfg, as other servers dial it: its own ports, or a proxy's.</summary>
    public string ServerLine(int quorumPort, int electionPort) => $"server.{Id}=127.0.0.1:{quorumPort}:{electionPort};127.0.0.1:{ClientPort}";

    internal void Start(ProcessStartInfo start)
    {
        if (IsRunning) throw new InvalidOperationException($"server {Id} is already running");
        start.WorkingDirectory = Directory;
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var output = new StreamWriter(OutputLog, append: true) { AutoFlush = true };
        output.WriteLine($"--- {DateTime.UtcNow:O} starting: {start.FileName} {string.Join(' ', start.ArgumentList)}");
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(output, e.Data);
        process.ErrorDataReceived += (_, e) => Write(output, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (_gate)
        {
            _process = process;
            _output = output;
            IsPaused = false;
        }
        ChildProcesses.Add(process);
    }

    /// <summary>SIGKILL (also of a paused process), then waits until it is gone.</summary>
    public void Kill()
    {
        Process? process;
        lock (_gate)
        {
            process = _process;
            _process = null;
            IsPaused = false;
        }
        if (process is null) return;
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        ChildProcesses.Remove(process);
        process.Dispose();
        lock (_gate)
        {
            _output?.WriteLine($"--- {DateTime.UtcNow:O} killed (SIGKILL)");
            _output?.Dispose();
            _output = null;
        }
    }

    /// <summary>SIGSTOP: the process keeps its sockets and answers nothing until <see cref="Resume"/>.</summary>
    public void Pause()
    {
        Signals.Stop(Pid ?? throw new InvalidOperationException($"server {Id} is not running"));
        IsPaused = true;
        Note("paused (SIGSTOP)");
    }

    /// <summary>SIGCONT.</summary>
    public void Resume()
    {
        if (!IsPaused) return;
        Signals.Continue(Pid ?? throw new InvalidOperationException($"server {Id} is not running"));
        IsPaused = false;
        Note("resumed (SIGCONT)");
    }

    /// <summary>The exit code if the process ended by itself (not by <see cref="Kill"/>).</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>The answer to a four-letter word, or null if the server does not answer within <paramref name="timeout"/>.</summary>
    public async Task<string?> FourLetterWordAsync(string command, TimeSpan timeout)
    {
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            return await FourLetterWord.AskAsync(ClientPort, command, cts.Token);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>"leader", "follower", "standalone", ... from <c>srvr</c>; null when it does not serve.</summary>
    public async Task<string?> ModeAsync(TimeSpan timeout)
    {
        if (IsPaused) return null;
        var srvr = await FourLetterWordAsync("srvr", timeout);
        var line = srvr?.Split('\n').FirstOrDefault(l => l.StartsWith("Mode:", StringComparison.Ordinal));
        return line?["Mode:".Length..].Trim();
    }

    /// <summary>The last <paramref name="lines"/> lines the process printed.</summary>
    public string LastOutput(int lines)
    {
        lock (_gate)
        {
            _output?.Flush();
            return File.Exists(OutputLog) ? string.Join('\n', File.ReadLines(OutputLog).Where(l => l.Length > 0).TakeLast(lines)) : "";
        }
    }

    /// <summary>Config and the tails of the logs, for failure messages.</summary>
    public string Diagnostics()
    {
        var text = new StringBuilder($"=== server {Id} ({ConnectString}, {(IsRunning ? IsPaused ? "paused" : "running" : "stopped")}) in {Directory}\n");
        foreach (var file in new[] { ConfigPath, OutputLog, ServerLog }.Where(File.Exists))
        {
            string content;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                content = new StreamReader(stream).ReadToEnd();
            }
            catch (IOException e)
            {
                content = e.Message;
            }
            text.AppendLine($"--- {Path.GetFileName(file)} (tail) ---").AppendLine(content.Length <= 6000 ? content : content[^6000..]);
        }
        return text.ToString();
    }

    private void Note(string what)
    {
        lock (_gate) _output?.WriteLine($"--- {DateTime.UtcNow:O} {what}");
    }

    private void Write(StreamWriter output, string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            if (ReferenceEquals(output, _output)) output.WriteLine(line);
        }
    }
}
