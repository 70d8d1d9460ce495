using Microsoft.Extensions.Logging;
using Quill.Commands;
using Quill.Keeper;

namespace Quill.Hosting;

/// <summary>A <see cref="KeeperServer"/> as a hosted service: stopping it stops accepting, drains, and closes the txn log.</summary>
/// <param name="metricsByHost">The host's <see cref="MetricsService"/> exports Keeper (which then opens no metrics port of its own).</param>
public sealed class KeeperService(KeeperOptions options, ILoggerFactory loggers, string where, bool metricsByHost = false) : IMeasuredService
{
    private readonly ILogger _log = loggers.CreateLogger("Quill");
    private KeeperServer? _server;
    private int _disposed;

    /// <summary>The running server (after start).</summary>
    public KeeperServer Server => _server ?? throw new InvalidOperationException("Keeper has not started");

    public string MeterName => "Quill.Keeper";
    public Observability.MetricsSource? Metrics => _server?.Metrics;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _server = new KeeperServer(options, loggers);
        _server.Metrics.ExportedByHost = metricsByHost;
        try
        {
            await _server.StartAsync();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidDataException)
        {
            _log.LogCritical("Keeper could not start{Where}: {Reason}", where, e.Message);
            throw new StartFailedException(ExitCodes.Failed);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _log.LogInformation("Keeper shutting down");
        await StopWithinAsync(DisposeAsync().AsTask(), "Keeper", _log, cancellationToken);
        _log.LogInformation("Keeper stopped");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _server is not null) await _server.DisposeAsync();
    }

    /// <summary>Waits for a server to stop, or says it did not within the host's shutdown timeout.</summary>
    internal static async Task StopWithinAsync(Task stop, string what, ILogger log, CancellationToken timeout)
    {
        try
        {
            await stop.WaitAsync(timeout);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            log.LogWarning("{What} did not stop within the shutdown timeout ({Seconds}s)", what, ServerHost.ShutdownTimeout.TotalSeconds);
        }
    }
}
