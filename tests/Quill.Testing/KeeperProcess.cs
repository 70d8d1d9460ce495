using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Quill.Testing;

/// <summary>
/// Our Keeper as a real process: <c>dotnet quill.dll keeper start --config zoo.cfg</c> on 127.0.0.1 and a free port,
/// with its config and data in a fresh temp directory. quill.dll is looked for next to the test assembly (test projects
/// that reference src/Quill get it copied there). The zoo.cfg keys mirror <see cref="ApacheZooKeeperServer"/>'s so
/// that differential tests configure both servers alike. It can be killed (SIGKILL) and started again on the same
/// port and data directory.
/// </summary>
public sealed class KeeperProcess : IZooKeeperServerProcess
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly int _tickTime;
    private readonly bool _extendedTypesEnabled;
    private readonly IReadOnlyDictionary<string, string> _extraConfig;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private Process? _process;

    private KeeperProcess(int tickTime, bool extendedTypesEnabled, IReadOnlyDictionary<string, string>? extraConfig)
    {
        _tickTime = tickTime;
        _extendedTypesEnabled = extendedTypesEnabled;
        _extraConfig = extraConfig ?? new Dictionary<string, string>();
        Directory = Path.Combine(Path.GetTempPath(), "quill-keeper-" + Guid.NewGuid().ToString("N")[..12]);
        DataDir = Path.Combine(Directory, "data");
    }

    /// <summary>Starts Keeper and waits until it answers <c>ruok</c> with <c>imok</c>.</summary>
    /// <param name="tickTime">The tick in ms; sessions may last from 2 to 20 ticks.</param>
    /// <param name="extendedTypesEnabled">Enables TTL nodes, as in Apache ZooKeeper.</param>
    /// <param name="extraConfig">More zoo.cfg lines, key to value.</param>
    public static async Task<KeeperProcess> StartAsync(
        int tickTime = 2000, bool extendedTypesEnabled = true, IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        var keeper = new KeeperProcess(tickTime, extendedTypesEnabled, extraConfig);
        try
        {
            System.IO.Directory.CreateDirectory(keeper.DataDir);
            keeper.Port = FreePort.Get();
            keeper.WriteConfig();
            await keeper.LaunchAsync();
            return keeper;
        }
        catch
        {
            await keeper.DisposeAsync();
            throw;
        }
    }

    /// <summary>The temp directory holding zoo.cfg and <see cref="DataDir"/>.</summary>
    public string Directory { get; }
    public string DataDir { get; }
    public string ConfigPath => Path.Combine(Directory, "zoo.cfg");
    public int Port { get; private set; }
    public string ConnectString => $"127.0.0.1:{Port}";
    public int TickTime => _tickTime;
    public bool IsRunning => _process is { HasExited: false };
    public int? ProcessId => _process?.Id;

    /// <summary>What the process has written to stdout so far.</summary>
    public string StdOut
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    /// <summary>What the process has written to stderr so far.</summary>
    public string StdErr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>The command line, config and output, for failure messages.</summary>
    public string Diagnostics()
    {
        string config = File.Exists(ConfigPath) ? File.ReadAllText(ConfigPath) : "(no config)";
        return $"--- keeper {ConnectString}: dotnet {QuillDll} keeper start --config {ConfigPath} ---\n{config}" +
               $"--- stdout ---\n{Tail(StdOut)}\n--- stderr ---\n{Tail(StdErr)}";
    }

    /// <summary>Sends a four-letter word (ruok, stat, mntr, ...) and returns the whole answer.</summary>
    public async Task<string> FourLetterWordAsync(string command, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command), cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    /// <summary>Kills the process with SIGKILL (no clean shutdown) and waits for it to end.</summary>
    public void Kill()
    {
        ProcessKiller.KillAndWait(ref _process);
    }

    /// <summary>Starts Keeper again after <see cref="Kill"/>, on the same port and data directory.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning) throw new InvalidOperationException("Keeper is still running; Kill() it first");
        await LaunchAsync();
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: the temp dir is left behind, which is harmless.
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>quill.dll next to the running test assembly.</summary>
    public static string QuillDll => Path.Combine(AppContext.BaseDirectory, "quill.dll");

    private void WriteConfig()
    {
        var config = new StringBuilder()
            .AppendLine($"tickTime={_tickTime}")
            .AppendLine($"dataDir={DataDir}")
            .AppendLine($"clientPort={Port}")
            .AppendLine("clientPortAddress=127.0.0.1")
            .AppendLine("4lw.commands.whitelist=*")
            .AppendLine($"extendedTypesEnabled={(_extendedTypesEnabled ? "true" : "false")}");
        foreach (var (key, value) in _extraConfig) config.AppendLine($"{key}={value}");
        File.WriteAllText(ConfigPath, config.ToString());
    }

    private async Task LaunchAsync()
    {
        if (!File.Exists(QuillDll))
            throw new InvalidOperationException(
                $"{QuillDll} not found: the test project must reference src/Quill/Quill.csproj so that quill.dll is copied next to it.");

        // The test host tells us which dotnet runs it; use the same one for the server.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = Directory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { QuillDll, "keeper", "start", "--config", ConfigPath }) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_NOLOGO"] = "1";

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // flushes the redirected output
                throw new InvalidOperationException($"Keeper exited with code {process.ExitCode} while starting.\n{Diagnostics()}");
            }
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                if ((await FourLetterWordAsync("ruok", timeout.Token)).StartsWith("imok", StringComparison.Ordinal)) return;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                string diagnostics = Diagnostics();
                Kill();
                throw new TimeoutException($"Keeper did not answer ruok with imok on port {Port} within {StartTimeout}.\n{diagnostics}");
            }
            await Task.Delay(100);
        }
    }

    private static void Append(StringBuilder buffer, string? line)
    {
        if (line is null) return;
        lock (buffer)
        {
            if (buffer.Length < 256 * 1024) buffer.AppendLine(line);
        }
    }

    private static string Tail(string text) => text.Length <= 16_000 ? text : text[^16_000..];
}
