using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Quill.Testing;

/// <summary>
/// A real Apache ZooKeeper (standalone, from the Debian package) on 127.0.0.1 and a free port, with its config, data
/// and logs in a fresh temp directory. Share one per test class with <c>IClassFixture&lt;ApacheZooKeeperServer&gt;</c>
/// (default settings) or start one with <see cref="StartAsync"/>. It can be killed (SIGKILL) and started again on
/// the same port and data directory, which is how tests check that sessions and data survive a crash.
/// </summary>
public sealed class ApacheZooKeeperServer : IZooKeeperServerProcess, IAsyncLifetime
{
    private const string JarDirectory = "/usr/share/java";
    private const string InstallHint = "Apache ZooKeeper 3.8 and a JRE are needed: apt-get install zookeeper";
    private static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(30);

    private readonly int _tickTime;
    private readonly bool _extendedTypesEnabled;
    private readonly IReadOnlyDictionary<string, string> _extraConfig;
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <summary>Creates an unstarted server with default settings; xunit starts it through <see cref="IAsyncLifetime"/>.</summary>
    public ApacheZooKeeperServer() : this(2000, true, null) { }

    private ApacheZooKeeperServer(int tickTime, bool extendedTypesEnabled, IReadOnlyDictionary<string, string>? extraConfig)
    {
        _tickTime = tickTime;
        _extendedTypesEnabled = extendedTypesEnabled;
        _extraConfig = extraConfig ?? new Dictionary<string, string>();
        Directory = Path.Combine(Path.GetTempPath(), "quill-zk-" + Guid.NewGuid().ToString("N")[..12]);
        DataDir = Path.Combine(Directory, "data");
    }

    /// <summary>Starts a server and waits until it answers <c>ruok</c> and serves requests.</summary>
    /// <param name="tickTime">ZooKeeper's tick in ms; sessions may last from 2 to 20 ticks.</param>
    /// <param name="extendedTypesEnabled">Enables TTL nodes (and the server id is then limited to 254).</param>
    /// <param name="extraConfig">More zoo.cfg lines, key to value.</param>
    public static async Task<ApacheZooKeeperServer> StartAsync(
        int tickTime = 2000, bool extendedTypesEnabled = true, IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        var server = new ApacheZooKeeperServer(tickTime, extendedTypesEnabled, extraConfig);
        try
        {
            await server.InitializeAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The temp directory holding zoo.cfg, the logs and <see cref="DataDir"/>.</summary>
    public string Directory { get; }
    public string DataDir { get; }
    public int Port { get; private set; }
    public string ConnectString => $"127.0.0.1:{Port}";
    public int TickTime => _tickTime;
    public bool IsRunning => _process is { HasExited: false };
    public string LogFile => Path.Combine(Directory, "zookeeper.log");

    public async Task InitializeAsync()
    {
        string java = FindJava() ?? throw new InvalidOperationException($"java not found. {InstallHint}");
        if (!File.Exists(Path.Combine(JarDirectory, "zookeeper.jar")))
            throw new InvalidOperationException($"{JarDirectory}/zookeeper.jar not found. {InstallHint}");

        System.IO.Directory.CreateDirectory(DataDir);
        Port = FreePort.Get();
        WriteConfig();
        await LaunchAsync(java);
    }

    /// <summary>Kills the server with SIGKILL (no clean shutdown) and waits for the process to end.</summary>
    public void Kill()
    {
        ProcessKiller.KillAndWait(ref _process, entireProcessTree: false);
    }

    /// <summary>Starts the server again after <see cref="Kill"/>, on the same port and data directory.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning) throw new InvalidOperationException("the server is still running");
        await LaunchAsync(FindJava() ?? throw new InvalidOperationException($"java not found. {InstallHint}"));
    }

    /// <summary>Kill, then start again on the same port and data directory.</summary>
    public async Task RestartAsync()
    {
        Kill();
        await StartAgainAsync();
    }

    /// <summary>Sends a four-letter word (ruok, stat, wchc, ...) and returns the whole answer.</summary>
    public async Task<string> FourLetterWordAsync(string command, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command), cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken);
    }

    /// <summary>What the process printed plus the server log, for failure messages.</summary>
    public string Diagnostics()
    {
        string log = File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no log file)";
        lock (_output) return $"--- process output ---\n{_output}\n--- {LogFile} (tail) ---\n{Tail(log, 8000)}";
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

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    private void WriteConfig()
    {
        var config = new StringBuilder()
            .AppendLine($"tickTime={_tickTime}")
            .AppendLine($"dataDir={DataDir}")
            .AppendLine($"clientPort={Port}")
            .AppendLine("clientPortAddress=127.0.0.1")
            .AppendLine("admin.enableServer=false")
            .AppendLine("4lw.commands.whitelist=*")
            .AppendLine($"extendedTypesEnabled={(_extendedTypesEnabled ? "true" : "false")}");
        foreach (var (key, value) in _extraConfig) config.AppendLine($"{key}={value}");
        File.WriteAllText(Path.Combine(Directory, "zoo.cfg"), config.ToString());

        File.WriteAllText(Path.Combine(Directory, "log4j.properties"), $$"""
            log4j.rootLogger=INFO,FILE
            log4j.appender.FILE=org.apache.log4j.FileAppender
            log4j.appender.FILE.File={{LogFile}}
            log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
            log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
            """);
    }

    private async Task LaunchAsync(string java)
    {
        // zookeeper.jar's manifest names its other dependencies; log4j 1.2 plus its slf4j binding keep the
        // server's log in our temp dir instead of nowhere.
        string classPath = string.Join(':', new[] { "zookeeper.jar", "zookeeper-jute.jar", "slf4j-log4j12.jar", "log4j-1.2.jar" }
            .Select(jar => Path.Combine(JarDirectory, jar)).Where(File.Exists));
        var start = new ProcessStartInfo(java)
        {
            WorkingDirectory = Directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Small heap, serial GC and C1 only: several of these run at once on a 2-core machine and must start fast.
        foreach (var arg in new[]
                 {
                     "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                     "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.jmx.log4j.disable=true",
                     $"-Dlog4j.configuration=file:{Path.Combine(Directory, "log4j.properties")}",
                     "-cp", classPath, "org.apache.zookeeper.server.ZooKeeperServerMain", Path.Combine(Directory, "zoo.cfg"),
                 })
            start.ArgumentList.Add(arg);

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + DefaultStartTimeout;
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"ZooKeeper exited with code {process.ExitCode} while starting.\n{Diagnostics()}");
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                // imok only says the process is up; srvr says whether it serves requests yet (data loaded).
                if ((await FourLetterWordAsync("ruok", timeout.Token)).StartsWith("imok", StringComparison.Ordinal) &&
                    (await FourLetterWordAsync("srvr", timeout.Token)).Contains("Mode:", StringComparison.Ordinal))
                    return;
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                string diagnostics = Diagnostics();
                Kill();
                throw new TimeoutException($"ZooKeeper did not answer ruok on port {Port} within {DefaultStartTimeout}.\n{diagnostics}");
            }
            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length < 64 * 1024) _output.AppendLine(line);
        }
    }

    private static string? FindJava()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("JAVA_HOME") is { Length: > 0 } home) candidates.Add(Path.Combine(home, "bin", "java"));
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            candidates.Add(Path.Combine(dir, "java"));
        candidates.Add("/usr/bin/java");
        return candidates.FirstOrDefault(File.Exists);
    }

    private static string Tail(string text, int length) => text.Length <= length ? text : text[^length..];
}
