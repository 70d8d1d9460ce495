using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Quill.Commands;

/// <summary>
/// `quill keeper start --ensemble N`: a development ensemble of N Keeper processes on 127.0.0.1, each a
/// `quill keeper start --config` with its own zoo.cfg, myid and data directory under one folder (kept, so a restart
/// finds its data). Client ports count up from --client-port (2181, 2182, ...); quorum and election ports are 707 and
/// 1707 above each client port (2888, 3888 for 2181), as ZooKeeper's usual ports are. Prints the connect string; Ctrl+C or SIGTERM stops every member.
/// </summary>
public static class LocalEnsemble
{
    public static async Task<int> RunAsync(int count, DirectoryInfo? dataDir, int clientPort)
    {
        if (count < 1 || count > 9)
        {
            Console.Error.WriteLine("quill: --ensemble takes 1 to 9 servers (3 or 5 tolerate 1 or 2 failures)");
            return ExitCodes.BadConfig;
        }
        var root = dataDir?.FullName ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
            Environment.SpecialFolderOption.Create), "quill", "ensemble");
        var servers = new StringBuilder();
        for (int i = 1; i <= count; i++)
            servers.AppendLine(Inv($"server.{i}=127.0.0.1:{clientPort + 706 + i}:{clientPort + 1706 + i};127.0.0.1:{clientPort + i - 1}"));
        var members = new List<Process>();
        for (int i = 1; i <= count; i++)
        {
            var dir = Path.Combine(root, Inv($"s{i}"));
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "myid"), Inv($"{i}"));
            var config = Path.Combine(dir, "zoo.cfg");
            File.WriteAllText(config, Inv($"tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={dir}\n4lw.commands.whitelist=*\n") + servers);
            members.Add(StartMember(config, Path.Combine(dir, "keeper.log")));
        }
        var connect = string.Join(",", Enumerable.Range(0, count).Select(i => Inv($"127.0.0.1:{clientPort + i}")));
        Console.WriteLine($"Keeper ensemble of {count} in {root} (logs: s<N>/keeper.log)");
        Console.WriteLine($"Connect string: {connect}");

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        var anyExit = Task.WhenAny(members.Select(m => m.WaitForExitAsync()));
        var first = await Task.WhenAny(stop.Task, anyExit);
        int exit = ExitCodes.Ok;
        if (first != stop.Task)
        {
            var dead = members.First(m => m.HasExited);
            Console.Error.WriteLine($"quill: ensemble member server.{members.IndexOf(dead) + 1} exited with code {dead.ExitCode}; stopping the others");
            exit = ExitCodes.Failed;
        }
        foreach (var m in members.Where(m => !m.HasExited)) Signal(m.Id, "TERM");
        foreach (var m in members)
        {
            if (!m.WaitForExit(30_000)) m.Kill(entireProcessTree: true);
            m.Dispose();
        }
        Console.WriteLine("Ensemble stopped");
        return exit;
    }

    private static Process StartMember(string config, string logPath)
    {
        // The same quill: its apphost, or dotnet with quill.dll.
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(LocalEnsemble).Assembly.Location);
        foreach (var a in new[] { "keeper", "start", "--config", config }) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.WriteLine(l); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (log) log.WriteLine(l); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Signal(int pid, string signal)
    {
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {pid}") { UseShellExecute = false });
            kill?.WaitForExit();
        }
        catch (System.ComponentModel.Win32Exception) { }
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
