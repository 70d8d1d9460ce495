using System.CommandLine;
using Microsoft.Extensions.Logging;
using Quill.Broker;
using Quill.Broker.Config;

namespace Quill.Commands;

/// <summary>`quill broker start --config server.properties`: a broker on its own, its metadata in an external Keeper or ZooKeeper.</summary>
public static class BrokerCommands
{
    public static Command Create()
    {
        var broker = new Command("broker", "The Kafka-compatible broker.");
        var start = new Command("start", "Start a broker configured by a Kafka server.properties file (zookeeper.connect names Keeper or ZooKeeper).");
        var config = new Option<FileInfo>("--config") { Description = "A Kafka server.properties file.", Required = true };
        var overrides = new Option<string[]>("--override") { Description = "key=value, taking precedence over the file (as kafka-server-start.sh --override).", AllowMultipleArgumentsPerToken = false };
        start.Options.Add(config);
        start.Options.Add(overrides);
        start.SetAction((parse, ct) => StartAsync(parse.GetValue(config)!, parse.GetValue(overrides) ?? [], ct));
        broker.Subcommands.Add(start);
        return broker;
    }

    private static async Task<int> StartAsync(FileInfo configFile, string[] overrides, CancellationToken ct)
    {
        using var loggers = Logging.CreateFactory();
        var log = loggers.CreateLogger("Quill");
        BrokerOptions options;
        try
        {
            var properties = PropertiesFile.Parse(File.ReadAllText(configFile.FullName));
            foreach (string pair in overrides)
            {
                int eq = pair.IndexOf('=');
                if (eq <= 0) throw new BrokerConfigException($"--override '{pair}' is not key=value");
                properties[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
            }
            options = ServerProperties.Parse(properties, w => log.LogWarning("{Warning}", w));
        }
        catch (Exception e) when (e is BrokerConfigException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"quill: bad configuration: {e.Message}");
            return ExitCodes.BadConfig;
        }
        if (string.IsNullOrWhiteSpace(options.ZooKeeperConnect))
        {
            Console.Error.WriteLine("quill: bad configuration: zookeeper.connect: not set (use `quill start` for a broker with an embedded Keeper)");
            return ExitCodes.BadConfig;
        }
        return await RunBrokerAsync(options, loggers, null, ct);
    }

    /// <summary>Runs a broker until cancelled (Ctrl+C, SIGTERM), printing the readiness line scripts and tests wait for.</summary>
    internal static async Task<int> RunBrokerAsync(BrokerOptions options, ILoggerFactory loggers, string? banner, CancellationToken ct)
    {
        var log = loggers.CreateLogger("Quill");
        await using var broker = new BrokerServer(options, loggers);
        try
        {
            await broker.StartAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Ok;
        }
        catch (BrokerConfigException e)
        {
            Console.Error.WriteLine($"quill: bad configuration: {e.Message}");
            return ExitCodes.BadConfig;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or TimeoutException
                                       or InvalidOperationException or UnauthorizedAccessException or Quill.Keeper.Protocol.KeeperException)
        {
            log.LogCritical("The broker could not start: {Reason}", e.Message);
            return ExitCodes.Failed;
        }
        if (banner is not null) Console.WriteLine(string.Format(System.Globalization.CultureInfo.InvariantCulture, banner, broker.Port));
        Console.WriteLine($"Kafka listening on {options.EffectiveAdvertisedHost}:{broker.Port}");
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
        }
        log.LogInformation("Broker shutting down");
        return ExitCodes.Ok;
    }
}
