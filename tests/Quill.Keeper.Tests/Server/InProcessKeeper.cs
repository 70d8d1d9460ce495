using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Quill.Keeper.Tests.Server;

/// <summary>A real Keeper server in this process, on a free port, in a temp directory.</summary>
public sealed class InProcessKeeper : IAsyncDisposable
{
    private InProcessKeeper(KeeperServer server, string dir)
    {
        Server = server;
        Dir = dir;
    }

    public KeeperServer Server { get; private set; }
    public string Dir { get; }
    public int Port => Server.Endpoint.Port;
    public string ConnectString => $"127.0.0.1:{Port}";

    public static async Task<InProcessKeeper> StartAsync(Action<KeeperOptions>? configure = null, ILoggerFactory? loggers = null)
    {
        var dir = Path.Combine(Path.GetTempPath(), "quill-keeper-test-" + Guid.NewGuid().ToString("N"));
        var options = NewOptions(dir, 0);
        configure?.Invoke(options);
        var server = new KeeperServer(options, loggers ?? NullLoggerFactory.Instance);
        await server.StartAsync();
        return new InProcessKeeper(server, dir);
    }

    private static KeeperOptions NewOptions(string dir, int port) => new()
    {
        DataDir = dir,
        ClientPort = port,
        TickTime = 200,
        // Raw test clients send no pings: up to 30 s of silence (a loaded machine, a slow step) must not expire them.
        // Tests of expiry ask for a short timeout, which the 2-tick minimum (400 ms) allows.
        MaxSessionTimeout = 30_000,
        FourLetterWordWhitelist = new HashSet<string>(StringComparer.Ordinal) { "*" },
    };

    /// <summary>Stops the server cleanly and starts a new one on the same port and data directory.</summary>
    public async Task RestartAsync(Action<KeeperOptions>? configure = null)
    {
        int port = Port;
        await Server.DisposeAsync();
        var options = NewOptions(Dir, port);
        configure?.Invoke(options);
        Server = new KeeperServer(options, NullLoggerFactory.Instance);
        await Server.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
