using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Quill.Testing;

namespace Quill.Broker.Compat.Tests;

/// <summary>
/// A real broker process on 127.0.0.1 and free ports, its data in a fresh temp directory: by default
/// <c>dotnet quill.dll start --kafka-port P --keeper-port Q --data-dir D</c> (broker + embedded Keeper), or
/// <c>quill broker start --config server.properties</c> against an external Keeper/ZooKeeper. Ready when it prints
/// "Kafka listening on 127.0.0.1:P" and the port accepts. It can be killed with SIGKILL and started again on the
/// same ports and data.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly StringBuilder _output = new();
    private readonly List<string> _arguments;
    private Process? _process;
    private StreamWriter? _logFile;
    private TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BrokerProcess(string directory, int kafkaPort, int keeperPort, List<string> arguments)
    {
        Directory = directory;
        KafkaPort = kafkaPort;
        KeeperPort = keeperPort;
        _arguments = arguments;
    }

    /// <summary>
    /// `quill start`: a broker with an embedded Keeper. With <paramref name="logFile"/>, every line it prints also goes
    /// there (the in-memory copy stops growing at 512 KiB; a fuzz run logs far more, and all of it must be read).
    /// <paramref name="extraArguments"/> go on the `quill start` command line.
    /// </summary>
    public static async Task<BrokerProcess> StartAsync(string? logFile = null, IReadOnlyList<string>? extraArguments = null)
    {
        string dir = NewDirectory();
        int kafka = FreePort.Get(), keeper = FreePort.Get();
        var broker = new BrokerProcess(dir, kafka, keeper,
            ["start", "--kafka-port", $"{kafka}", "--keeper-port", $"{keeper}", "--data-dir", Path.Combine(dir, "data"), .. extraArguments ?? []]);
        if (logFile is not null) broker._logFile = new StreamWriter(logFile, append: true) { AutoFlush = true };
        return await broker.LaunchOrDisposeAsync();
    }

    /// <summary>
    /// `quill broker start --config server.properties` with the given zookeeper.connect, broker id and extra properties.
    /// <paramref name="kafkaPort"/> (a free one by default) is the port of the first listener, which extra properties
    /// that set listeners= must keep.
    /// </summary>
    public static async Task<BrokerProcess> StartWithConfigAsync(string zookeeperConnect, IReadOnlyDictionary<string, string>? extra = null, int brokerId = 0,
        int? kafkaPort = null)
    {
        string dir = NewDirectory();
        int kafka = kafkaPort ?? FreePort.Get();
        var config = new StringBuilder()
            .AppendLine($"broker.id={brokerId}")
            .AppendLine($"listeners=PLAINTEXT://127.0.0.1:{kafka}")
            .AppendLine($"log.dirs={Path.Combine(dir, "kafka-logs")}")
            .AppendLine($"zookeeper.connect={zookeeperConnect}")
            .AppendLine("offsets.topic.replication.factor=1")
            .AppendLine("transaction.state.log.replication.factor=1")
            .AppendLine("group.initial.rebalance.delay.ms=0")
            .AppendLine("num.network.threads=3");
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) config.AppendLine($"{k}={v}");
        System.IO.Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "server.properties");
        await File.WriteAllTextAsync(path, config.ToString());
        var broker = new BrokerProcess(dir, kafka, 0, ["broker", "start", "--config", path]);
        return await broker.LaunchOrDisposeAsync();
    }

    private static string NewDirectory() => Path.Combine(Path.GetTempPath(), "quill-broker-" + Guid.NewGuid().ToString("N")[..12]);

    public string Directory { get; }
    public int KafkaPort { get; }
    /// <summary>The embedded Keeper's port (0 when the broker uses an external one).</summary>
    public int KeeperPort { get; }
    public string BootstrapServers => $"127.0.0.1:{KafkaPort}";
    public string KeeperConnect => $"127.0.0.1:{KeeperPort}";
    public bool IsRunning => _process is { HasExited: false };
    /// <summary>The running process's id (for signals the tests send, such as SIGSTOP).</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;
    public string LogDir => Path.Combine(Directory, "data", "kafka-logs");

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>The command and the output so far, for failure messages.</summary>
    public string Diagnostics() =>
        $"--- dotnet quill.dll {string.Join(' ', _arguments)} ---\n{(Output.Length > 20_000 ? Output[^20_000..] : Output)}";

    /// <summary>SIGKILL: no clean shutdown, no flush; waits until the process is gone.</summary>
    public void Kill()
    {
        ProcessKiller.KillAndWait(ref _process);
    }

    /// <summary>
    /// Sends SIGTERM (what a service manager sends to stop it) and waits up to <paramref name="timeout"/> for the
    /// process to exit; its exit code, or null if it is still running then.
    /// </summary>
    public async Task<int?> TerminateAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException("the broker is not running");
        if (SendSignal(process.Id, Sigterm) != 0) throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        process.WaitForExit(); // the output is read to its end
        return process.ExitCode;
    }

    private const int Sigterm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>Starts the broker again after <see cref="Kill"/>, on the same ports and data.</summary>
    public async Task StartAgainAsync()
    {
        if (IsRunning) throw new InvalidOperationException("the broker is still running; Kill() it first");
        await LaunchAsync();
    }

    private async Task<BrokerProcess> LaunchOrDisposeAsync()
    {
        try
        {
            await LaunchAsync();
            return this;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task LaunchAsync()
    {
        string quill = KeeperProcess.QuillDll;
        if (!File.Exists(quill))
            throw new InvalidOperationException($"{quill} not found: the test project must reference src/Quill/Quill.csproj.");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        System.IO.Directory.CreateDirectory(Directory);
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = Directory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(quill);
        foreach (string arg in _arguments) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_NOLOGO"] = "1";
        _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ready = _ready;
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, ready);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, ready);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + StartTimeout;
        while (!ready.Task.IsCompleted)
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                throw new InvalidOperationException($"the broker exited with code {process.ExitCode} while starting\n{Diagnostics()}");
            }
            if (DateTime.UtcNow > deadline)
            {
                string diagnostics = Diagnostics();
                Kill();
                throw new TimeoutException($"the broker did not print its readiness line within {StartTimeout}\n{diagnostics}");
            }
            await Task.WhenAny(ready.Task, Task.Delay(100));
        }
        using var probe = new TcpClient();
        await probe.ConnectAsync("127.0.0.1", KafkaPort);
    }

    private void OnLine(string? line, TaskCompletionSource ready)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length < 512 * 1024) _output.AppendLine(line);
            _logFile?.WriteLine(line);
        }
        if (line.StartsWith($"Kafka listening on 127.0.0.1:{KafkaPort}", StringComparison.Ordinal)) ready.TrySetResult();
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        lock (_output)
        {
            _logFile?.Dispose();
            _logFile = null;
        }
        try
        {
            if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>One broker shared by the tests of a class (each test uses its own topics).</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    public BrokerProcess Broker { get; private set; } = null!;
    public async Task InitializeAsync() => Broker = await BrokerProcess.StartAsync();
    public async Task DisposeAsync() => await Broker.DisposeAsync();
}
