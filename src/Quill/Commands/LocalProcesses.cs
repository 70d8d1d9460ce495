using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Quill.Commands;

/// <summary>
/// The member processes of a local development cluster (`quill keeper start --ensemble`, `quill start --brokers`):
/// each is this same quill with its own arguments, its output appended to its own log file. The group runs until
/// SIGTERM/Ctrl+C (a member that dies meanwhile is reported, the rest keep running), then stops the members in reverse
/// start order (so brokers stop before the Keeper they keep their metadata in).
/// </summary>
public sealed class LocalProcesses
{
    private readonly List<(string Name, Process Process)> _members = [];

    public void Start(string name, string logPath, params string[] arguments) => _members.Add((name, Launch(logPath, arguments)));

    /// <summary>Starts this same quill (its apphost, or dotnet with quill.dll) with <paramref name="arguments"/>, its output appended to <paramref name="logPath"/>.</summary>
    public static Process Launch(string logPath, params string[] arguments)
    {
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(LocalProcesses).Assembly.Location);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.WriteLine(l); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.WriteLine(l); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Waits until every port accepts a connection (the members serve), or a member exits, or
    /// <paramref name="timeout"/> passes; null when all serve, else why not.
    /// </summary>
    public async Task<string?> WaitUntilServingAsync(IEnumerable<int> ports, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (int port in ports)
        {
            while (true)
            {
                if (ExitedMember() is { } dead) return $"{dead.Name} exited with code {dead.Process.ExitCode}";
                if (DateTime.UtcNow > deadline) return $"nothing serves 127.0.0.1:{port} after {timeout.TotalSeconds:0} s";
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(2));
                    break;
                }
                catch (Exception e) when (e is SocketException or TimeoutException)
                {
                    await Task.Delay(200);
                }
            }
        }
        return null;
    }

    /// <summary>
    /// Runs until SIGTERM/SIGINT, then stops the members. A member that exits on its own (killed to try a failover,
    /// say) is reported and the others keep running, as the machines of a real cluster would; when none is left the
    /// command ends. The exit code for the command: 0 when stopped by a signal, 1 when every member had exited.
    /// </summary>
    public async Task<int> RunUntilStoppedAsync()
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        var running = _members.ToDictionary(m => m.Process.WaitForExitAsync(), m => m);
        int exit = ExitCodes.Ok;
        while (true)
        {
            if (running.Count == 0)
            {
                Console.Error.WriteLine("quill: every member has exited");
                exit = ExitCodes.Failed;
                break;
            }
            var first = await Task.WhenAny(running.Keys.Append(stop.Task));
            if (first == stop.Task) break;
            var (name, process) = running[(Task)first];
            running.Remove((Task)first);
            Console.Error.WriteLine($"quill: {name} (pid {process.Id}) exited with code {process.ExitCode}; {running.Count} still running (SIGTERM or Ctrl+C stops them)");
        }
        Stop();
        return exit;
    }

    /// <summary>Each member's name and process id, for an operator who wants to kill or pause one.</summary>
    public IEnumerable<string> Describe() => _members.Select(m => $"{m.Name}: pid {m.Process.Id}");

    /// <summary>SIGTERM to each member, newest first, each given 30 s to stop cleanly before it is killed.</summary>
    public void Stop()
    {
        for (int i = _members.Count - 1; i >= 0; i--)
        {
            var process = _members[i].Process;
            if (!process.HasExited) kill(process.Id, Sigterm);
            if (!process.WaitForExit(30_000)) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
        _members.Clear();
    }

    private (string Name, Process Process)? ExitedMember()
    {
        foreach (var m in _members)
            if (m.Process.HasExited)
                return m;
        return null;
    }

    private const int Sigterm = 15;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
