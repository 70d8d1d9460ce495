using Microsoft.Extensions.Logging;
using Quill.Broker;
using Quill.Broker.Config;
using Quill.Commands;

namespace Quill.Hosting;

/// <summary>
/// A <see cref="BrokerServer"/> as a hosted service. Its options are made when it starts (an embedded Keeper's port
/// is known only then); once it serves, it prints the readiness line scripts and tests wait for.
/// </summary>
/// <param name="metricsByHost">The host's <see cref="MetricsService"/> exports the broker (which then opens no metrics port of its own).</param>
public sealed class BrokerService(Func<BrokerOptions> options, ILoggerFactory loggers, Func<int, string>? banner, bool metricsByHost = false)
    : IMeasuredService
{
    private readonly ILogger _log = loggers.CreateLogger("Quill");
    private BrokerServer? _broker;

    public string MeterName => "Quill.Broker";
    public Observability.MetricsSource? Metrics => _broker?.Metrics;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var brokerOptions = options();
        _broker = new BrokerServer(brokerOptions, loggers);
        _broker.Metrics.ExportedByHost = metricsByHost;
        try
        {
            await _broker.StartAsync(cancellationToken);
        }
        catch (BrokerConfigException e)
        {
            Console.Error.WriteLine($"quill: bad configuration: {e.Message}");
            throw new StartFailedException(ExitCodes.BadConfig);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or TimeoutException
                                       or InvalidOperationException or UnauthorizedAccessException or Quill.Keeper.Protocol.KeeperException)
        {
            _log.LogCritical("The broker could not start: {Reason}", e.Message);
            throw new StartFailedException(ExitCodes.Failed);
        }
        if (banner is not null) Console.WriteLine(banner(_broker.Port));
        Console.WriteLine($"Kafka listening on {brokerOptions.EffectiveAdvertisedHost}:{_broker.Port}");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _log.LogInformation("Broker shutting down");
        await KeeperService.StopWithinAsync(DisposeAsync().AsTask(), "The broker", _log, cancellationToken);
    }

    /// <summary>BrokerServer's own dispose runs once however often it is called.</summary>
    public ValueTask DisposeAsync() => _broker?.DisposeAsync() ?? ValueTask.CompletedTask;
}
