using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Quill.Testing;

/// <summary>
/// What every ZooKeeper-protocol server process in the tests shares (Apache ZooKeeper, Quill's Keeper): a fresh temp
/// directory with zoo.cfg and the data dir, a free port on 127.0.0.1, launching with captured output, waiting until
/// it serves, four-letter words, SIGKILL and starting again on the same port and data. A subclass says how to run it.
/// </summary>
public abstract class ZooKeeperServerProcess : IZooKeeperServerProcess
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly bool _extendedTypesEnabled;
    private readonly IReadOnlyDictionary<string, string> _extraConfig;
    private readonly StringBuilder _output = new();
    private Process? _process;

    protected ZooKeeperServerProcess(string directoryPrefix, int tickTime, bool extendedTypesEnabled, IReadOnlyDictionary<string, string>? extraConfig)
    {
        TickTime = tickTime;
        _extendedTypesEnabled = extendedTypesEnabled;
        _extraConfig = extraConfig ?? new Dictionary<string, string>();
        Directory = Path.Combine(Path.GetTempPath(), directoryPrefix + Guid.NewGuid().ToString("N")[..12]);
        DataDir = Path.Combine(Directory, "data");
    }

    /// <summary>The temp directory holding zoo.cfg and <see cref="DataDir"/>.</summary>
    public string Directory { get; }
    public string DataDir { get; }
    public string ConfigPath => Path.Combine(Directory, "zoo.cfg");
    public int Port { get; private set; }
    public string ConnectString => $"127.0.0.1:{Port}";
    /// <summary>The tick in ms; sessions may last from 2 to 20 ticks.</summary>
    public int TickTime { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the process has printed so far (stdout and stderr).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Server name, command line, config and output, for failure messages.</summary>
    public virtual string Diagnostics()
    {
        string config = File.Exists(ConfigPath) ? File.ReadAllText(ConfigPath) : "(no config)";
        return $"--- {Name} on {ConnectString} ---\n{config}--- output ---\n{Tail(Output, 16_000)}";
    }

    /// <summary>Sends a four-letter word (ruok, stat, mntr, wchc, ...) and returns the whole answer.</summary>
    public Task<string> FourLetterWordAsync(string command, CancellationToken cancellationToken = default) =>
        FourLetterWord.AskAsync(Port, command, cancellationToken);

    /// <summary>Kills the process with SIGKILL (no clean shutdown) and waits for it to end.</summary>
    public void Kill() => ProcessKiller.KillAndWait(ref _process, KillProcessTree);

    /// <summary>Starts the server again after <see cref="Kill"/>, on the same port and data directory.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning) throw new InvalidOperationException($"{Name} is still running; Kill() it first");
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
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>"Keeper", "ZooKeeper": for messages.</summary>
    protected abstract string Name { get; }
    /// <summary>Whether SIGKILL goes to the children too.</summary>
    protected virtual bool KillProcessTree => true;
    /// <summary>How to run the server on <see cref="ConfigPath"/> (working directory and output redirection are set by the caller).</summary>
    protected abstract ProcessStartInfo CreateStartInfo();
    /// <summary>zoo.cfg lines (and other files) only this server needs.</summary>
    protected virtual void WriteExtraConfig(StringBuilder config) { }

    /// <summary>Whether the server serves requests yet; by default, whether it answers ruok with imok.</summary>
    protected virtual async Task<bool> IsServingAsync(CancellationToken cancellationToken) =>
        (await FourLetterWordAsync("ruok", cancellationToken)).StartsWith("imok", StringComparison.Ordinal);

    /// <summary>
    /// Creates the directory, picks the port, writes zoo.cfg and launches; disposes on failure. A free port is only
    /// free when it is probed: if the server exits while starting (another process took the port meanwhile), it is
    /// tried again on another port, twice at most.
    /// </summary>
    protected async Task StartFreshAsync()
    {
        try
        {
            System.IO.Directory.CreateDirectory(DataDir);
            for (int attempt = 1; ; attempt++)
            {
                Port = FreePort.Get();
                WriteConfig();
                try
                {
                    await LaunchAsync();
                    return;
                }
                catch (ServerExitedException) when (attempt < 3)
                {
                    lock (_output) _output.AppendLine($"--- exited while starting on port {Port}; trying another port ---");
                }
            }
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>The server process ended before it served.</summary>
    private sealed class ServerExitedException(string message) : InvalidOperationException(message);

    private void WriteConfig()
    {
        var config = new StringBuilder()
            .AppendLine($"tickTime={TickTime}")
            .AppendLine($"dataDir={DataDir}")
            .AppendLine($"clientPort={Port}")
            .AppendLine("clientPortAddress=127.0.0.1")
            .AppendLine("4lw.commands.whitelist=*")
            .AppendLine($"extendedTypesEnabled={(_extendedTypesEnabled ? "true" : "false")}");
        WriteExtraConfig(config);
        foreach (var (key, value) in _extraConfig) config.AppendLine($"{key}={value}");
        File.WriteAllText(ConfigPath, config.ToString());
    }

    private async Task LaunchAsync()
    {
        var start = CreateStartInfo();
        start.WorkingDirectory = Directory;
        start.UseShellExecute = false;
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
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
                throw new ServerExitedException($"{Name} exited with code {process.ExitCode} while starting.\n{Diagnostics()}");
            }
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                if (await IsServingAsync(timeout.Token)) return;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                string diagnostics = Diagnostics();
                Kill();
                throw new TimeoutException($"{Name} did not start serving on port {Port} within {StartTimeout}.\n{diagnostics}");
            }
            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length < 256 * 1024) _output.AppendLine(line);
        }
    }

    protected static string Tail(string text, int length) => text.Length <= length ? text : text[^length..];
}
