using System.CommandLine;
using Microsoft.Extensions.Logging;
using Quill.Keeper;
using Quill.Keeper.Config;
using Quill.Hosting;

namespace Quill.Commands;

/// <summary>`quill keeper ...`: run the coordination service on its own.</summary>
public static class KeeperCommands
{
    public static Command Create()
    {
        var keeper = new Command("keeper", "Keeper, the ZooKeeper-compatible coordination service.");
        var start = new Command("start", "Start a standalone Keeper server (without --config: 127.0.0.1:2181 and a data directory it prints).");
        var config = new Option<FileInfo?>("--config") { Description = "A ZooKeeper zoo.cfg file (tickTime, dataDir, clientPort, ...)." };
        start.Options.Add(config);
        start.SetAction((parse, _) => StartAsync(parse.GetValue(config)));
        keeper.Subcommands.Add(start);
        return keeper;
    }

    private static async Task<int> StartAsync(FileInfo? configFile)
    {
        using var loggers = Logging.CreateFactory();
        var log = loggers.CreateLogger("Quill");
        KeeperOptions options;
        try
        {
            if (configFile is null)
            {
                options = new KeeperOptions
                {
                    DataDir = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "quill", "keeper"),
                    FourLetterWordWhitelist = new HashSet<string>(StringComparer.Ordinal) { "srvr", "ruok", "stat", "mntr", "conf" },
                };
                Console.WriteLine($"No --config given: Keeper on 127.0.0.1:2181, data in {options.DataDir}");
            }
            else options = ZooCfg.Load(configFile.FullName, w => log.LogWarning("{Warning}", w));
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"quill: bad configuration: {e.Message}");
            return ExitCodes.BadConfig;
        }

        // metricsProvider.httpPort is served by the host, next to the client port.
        if (options.MetricsPort <= 0) return await ServerHost.RunAsync(new KeeperService(options, loggers, where: ""));
        var keeper = new KeeperService(options, loggers, where: "", metricsByHost: true);
        return await ServerHost.RunAsync(new MetricsService(options.MetricsHost, options.MetricsPort, [keeper], loggers), keeper);
    }
}
