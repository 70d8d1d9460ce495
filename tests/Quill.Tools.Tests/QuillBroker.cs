using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Quill.Testing;

namespace Quill.Tools.Tests;

/// <summary>
/// A real `quill start` (broker + embedded Keeper) as a process on free ports and a temp data dir, shared by a
/// collection, stopped by its PID.
/// </summary>
public sealed class QuillBroker : IAsyncLifetime
{
    private readonly StringBuilder _output = new();
    private Process? _process;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quill-tools-broker-" + Guid.NewGuid().ToString("N")[..8]);

    public string BootstrapServers { get; private set; } = "";
    public string KeeperConnect { get; private set; } = "";

    public async Task InitializeAsync()
    {
        int kafkaPort = FreePort.Get(), keeperPort = FreePort.Get();
        BootstrapServers = $"127.0.0.1:{kafkaPort}";
        KeeperConnect = $"127.0.0.1:{keeperPort}";
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        foreach (var a in new[] { KeeperProcess.QuillDll, "start", "--kafka-port", $"{kafkaPort}", "--keeper-port", $"{keeperPort}", "--data-dir", _dir })
            start.ArgumentList.Add(a);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).SetLogHandler((_, _) => { }).Build();
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"quill start exited with {_process.ExitCode}:\n{Output}");
            try
            {
                if (admin.GetMetadata(TimeSpan.FromSeconds(2)).Brokers.Count > 0) return;
            }
            catch (KafkaException)
            {
                // Not serving yet.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"quill start did not serve Metadata within 60 s:\n{Output}");
            await Task.Delay(200);
        }
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.WaitForExit(10_000);
        _process?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class QuillBrokerCollection : ICollectionFixture<QuillBroker>
{
    public const string Name = "quill broker";
}
