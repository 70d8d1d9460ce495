using Microsoft.Extensions.Logging;
using Quill.Broker.Handlers;
using Quill.Keeper;

namespace Quill.Broker.Compat.Tests.Errors;

/// <summary>
/// A Keeper and a broker in this process, on ports the OS picks, with the request handlers a test chooses (the one way
/// to make a handler fail on purpose); everything either logs is kept in <see cref="Log"/>.
/// </summary>
public sealed class InProcessBroker : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "quill-inproc-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly ILoggerFactory _loggers;
    private KeeperServer? _keeper;
    private BrokerServer? _broker;

    private InProcessBroker()
    {
        _loggers = LoggerFactory.Create(builder => builder.AddProvider(Log).SetMinimumLevel(LogLevel.Information));
    }

    public CapturedLog Log { get; } = new();
    public int KafkaPort => _broker!.Port;
    public string BootstrapServers => $"127.0.0.1:{KafkaPort}";

    public static async Task<InProcessBroker> StartAsync(IReadOnlyList<Func<BrokerServices, IEnumerable<IRequestHandler>>> handlerSets)
    {
        var started = new InProcessBroker();
        try
        {
            started._keeper = new KeeperServer(new KeeperOptions { DataDir = Path.Combine(started._dir, "keeper"), ClientPort = 0, ClientPortAddress = "127.0.0.1" }, started._loggers);
            await started._keeper.StartAsync();
            started._broker = new BrokerServer(new BrokerOptions
            {
                BrokerId = 0,
                ListenHost = "127.0.0.1",
                Port = 0,
                LogDirs = [Path.Combine(started._dir, "kafka-logs")],
                ZooKeeperConnect = $"127.0.0.1:{started._keeper.Endpoint.Port}",
                OffsetsTopicReplicationFactor = 1,
                TransactionStateLogReplicationFactor = 1,
                GroupInitialRebalanceDelayMs = 0,
            }, started._loggers, handlerSets: handlerSets);
            await started._broker.StartAsync();
            return started;
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null) await _broker.DisposeAsync();
        if (_keeper is not null) await _keeper.DisposeAsync();
        _loggers.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Every log entry of a logger factory, for tests to read.</summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly List<Entry> _entries = [];

    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    public IReadOnlyList<Entry> Entries
    {
        get { lock (_entries) return [.. _entries]; }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (log._entries) log._entries.Add(new Entry(category, logLevel, formatter(state, exception), exception));
        }
    }
}
