using System.CommandLine;
using Microsoft.Extensions.Logging;
using Quill.Keeper;
using Quill.Keeper.Config;
using Quill.Keeper.Storage.ZooKeeperImport;
using Quill.Hosting;

namespace Quill.Commands;

/// <summary>`quill keeper ...`: run the coordination service on its own.</summary>
public static class KeeperCommands
{
    public static Command Create()
    {
        var keeper = new Command("keeper", "Keeper, the ZooKeeper-compatible coordination service.");
        var start = new Command("start", "Start a Keeper server: standalone, or one ensemble member when zoo.cfg lists server.N lines (without --config: 127.0.0.1:2181 and a data directory it prints).");
        var config = new Option<FileInfo?>("--config") { Description = "A ZooKeeper zoo.cfg file (tickTime, dataDir, clientPort, ...)." };
        var ensemble = new Option<int?>("--ensemble") { Description = "Start a local development ensemble of N servers (separate processes) and print its connect string." };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "With --ensemble: where the members' configs and data go (default: a folder it prints)." };
        var clientPort = new Option<int>("--client-port") { Description = "With --ensemble: the first member's client port; the others count up.", DefaultValueFactory = _ => 2181 };
        start.Options.Add(config);
        start.Options.Add(ensemble);
        start.Options.Add(dataDir);
        start.Options.Add(clientPort);
        start.SetAction((parse, _) => parse.GetValue(ensemble) is { } n
            ? LocalEnsemble.RunAsync(n, parse.GetValue(dataDir), parse.GetValue(clientPort))
            : StartAsync(parse.GetValue(config)));
        keeper.Subcommands.Add(start);
        keeper.Subcommands.Add(CreateImportZooKeeper());
        return keeper;
    }

    private static Command CreateImportZooKeeper()
    {
        var command = new Command("import-zookeeper",
            "Build Keeper's data from an Apache ZooKeeper 3.x data directory (its version-2 snapshots and txn logs). " +
            "Run it once, with ZooKeeper stopped, before the first `keeper start`.");
        var config = new Option<FileInfo>("--config") { Description = "Keeper's zoo.cfg: the data goes to its dataDir.", Required = true };
        var from = new Option<DirectoryInfo?>("--from") { Description = "ZooKeeper's dataDir (the folder holding version-2); default: the config's dataDir." };
        var dataLogDir = new Option<DirectoryInfo?>("--data-log-dir") { Description = "ZooKeeper's dataLogDir, when its logs are kept apart; default: the config's dataLogDir, else --from." };
        command.Options.Add(config);
        command.Options.Add(from);
        command.Options.Add(dataLogDir);
        command.SetAction(parse => ImportZooKeeper(parse.GetValue(config)!, parse.GetValue(from), parse.GetValue(dataLogDir)));
        return command;
    }

    private static int ImportZooKeeper(FileInfo configFile, DirectoryInfo? from, DirectoryInfo? dataLogDir)
    {
        using var loggers = Logging.CreateFactory();
        var log = loggers.CreateLogger("Quill.Import");
        KeeperOptions options;
        try
        {
            options = ZooCfg.Load(configFile.FullName, w => log.LogWarning("{Warning}", w));
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"quill: bad configuration: {e.Message}");
            return ExitCodes.BadConfig;
        }
        // The same zoo.cfg ZooKeeper ran with works: ZooKeeper's files are in version-2 folders, Keeper's beside them.
        string zkDataDir = from?.FullName ?? options.DataDir;
        string? zkLogDir = dataLogDir?.FullName ?? (from is null && options.DataLogDir.Length > 0 ? options.DataLogDir : null);
        try
        {
            var result = ZooKeeperImporter.Import(zkDataDir, zkLogDir, options, log);
            Console.WriteLine($"Imported {result.Nodes} znodes and {result.Sessions} sessions from {zkDataDir} " +
                $"(snapshot {result.SnapshotRead ?? "none"}, {result.LogFilesRead} log files, {result.TxnsReplayed} txns replayed); " +
                $"last zxid 0x{result.LastZxid:x}. Keeper snapshot: {result.KeeperSnapshot}");
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is ZooKeeperImportException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"quill: cannot import: {e.Message}");
            return ExitCodes.Failed;
        }
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
