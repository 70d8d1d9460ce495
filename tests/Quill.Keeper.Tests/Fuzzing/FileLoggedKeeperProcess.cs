using System.Diagnostics;
using Quill.Testing;

namespace Quill.Keeper.Tests.Fuzzing;

/// <summary>
/// Keeper as the real `quill keeper start` process, like <see cref="KeeperProcess"/>, but with its whole log in a file
/// (<see cref="LogFile"/>) instead of an in-memory copy that stops growing: a long fuzz run logs a warning for most of
/// its million frames, and every line must be looked at afterwards.
/// </summary>
public sealed class FileLoggedKeeperProcess : ZooKeeperServerProcess
{
    private FileLoggedKeeperProcess(IReadOnlyDictionary<string, string>? extraConfig)
        : base("quill-keeper-fuzz-", 2000, true, extraConfig)
    {
    }

    public static async Task<FileLoggedKeeperProcess> StartAsync(IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        var keeper = new FileLoggedKeeperProcess(extraConfig);
        await keeper.StartFreshAsync();
        return keeper;
    }

    public string LogFile => Path.Combine(Directory, "keeper.log");

    protected override string Name => "Keeper";

    public override string Diagnostics()
    {
        string log = "(no log file)";
        if (File.Exists(LogFile))
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(Math.Max(0, stream.Length - 8000), SeekOrigin.Begin);
            log = new StreamReader(stream).ReadToEnd();
        }
        return $"{base.Diagnostics()}\n--- {LogFile} (tail) ---\n{log}";
    }

    protected override ProcessStartInfo CreateStartInfo()
    {
        if (!File.Exists(KeeperProcess.QuillDll)) throw new InvalidOperationException($"{KeeperProcess.QuillDll} not found");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        // exec: the process the harness watches and kills is the server itself, not a shell around it.
        var start = new ProcessStartInfo("/bin/sh");
        foreach (var arg in new[] { "-c", "exec \"$0\" \"$@\" >>\"$LOG\" 2>&1", dotnet, KeeperProcess.QuillDll, "keeper", "start", "--config", ConfigPath })
            start.ArgumentList.Add(arg);
        start.Environment["LOG"] = LogFile;
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }
}
