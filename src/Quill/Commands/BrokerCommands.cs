using System.CommandLine;
using Microsoft.Extensions.Logging;
using Quill.Broker;
using Quill.Broker.Config;
using Quill.Hosting;

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
        start.SetAction((parse, _) => StartAsync(parse.GetValue(config)!, parse.GetValue(overrides) ?? []));
        broker.Subcommands.Add(start);
        return broker;
    }

    private static async Task<int> StartAsync(FileInfo configFile, string[] overrides)
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
        // metrics.http.port is served by the host, next to the Kafka port.
        if (options.MetricsPort <= 0) return await ServerHost.RunAsync(new BrokerService(() => options, loggers, banner: null));
        var broker = new BrokerService(() => options, loggers, banner: null, metricsByHost: true);
        return await ServerHost.RunAsync(new MetricsService(options.MetricsHost ?? options.ListenHost, options.MetricsPort, [broker], loggers), broker);
    }
}
