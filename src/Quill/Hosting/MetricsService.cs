using Microsoft.Extensions.Logging;
using Quill.Commands;
using Quill.Observability;

namespace Quill.Hosting;

/// <summary>A server service whose meter the host's metrics port can export.</summary>
public interface IMeasuredService : IServerService
{
    /// <summary>The name of the server's meter (one server of each kind runs in a process).</summary>
    string MeterName { get; }

    /// <summary>The server's metrics; null until the server is made (when its service starts).</summary>
    MetricsSource? Metrics { get; }
}

/// <summary>
/// The host's HTTP port, next to the servers' TCP ports: <c>/metrics</c> exports every server of the process (their
/// names never clash: Kafka's JMX-exporter names, ZooKeeper's mntr names), <c>/health</c> is 200 only while all of them
/// serve. Started before the servers (so it answers 503 while they start) and stopped after them (503 while they stop).
/// </summary>
public sealed class MetricsService(string host, int port, IReadOnlyList<IMeasuredService> servers, ILoggerFactory loggers) : IServerService
{
    private readonly ILogger _log = loggers.CreateLogger("Quill");
    private MetricsEndpoint? _endpoint;
    private int _disposed;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            // By meter name, not instance: the servers and their meters are made only when their services start.
            _endpoint = await MetricsEndpoint.StartAsync(host, port, [.. servers.Select(s => s.MeterName)], exports: null,
                () => [.. servers.Select(s => s.Metrics)], loggers, cancellationToken);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            _log.LogCritical("The metrics port could not start on {Host}:{Port}: {Reason}", host, port, e.Message);
            throw new StartFailedException(ExitCodes.Failed);
        }
        _log.LogInformation("Prometheus metrics on http://{Host}:{Port}/metrics", host, _endpoint.Port);
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _endpoint is not null) await _endpoint.DisposeAsync();
    }
}
