using System.CommandLine;
using Microsoft.Extensions.Logging;
using Quill.Broker;
using Quill.Broker.Config;
using Quill.Keeper;

namespace Quill.Commands;

/// <summary>
/// `quill start`: a broker and an embedded Keeper in one process, with no configuration: Kafka on 127.0.0.1:9092,
/// the ZooKeeper protocol on 127.0.0.1:2181, data under a directory it prints. The broker still reaches its metadata
/// through the Keeper client over the ZooKeeper protocol, exactly as it would reach a separate ensemble.
/// </summary>
public static class StartCommand
{
    public static Command Create()
    {
        var start = new Command("start", "Start a Kafka broker with an embedded Keeper (zero configuration; prints where it keeps its data).");
        var kafkaPort = new Option<int>("--kafka-port") { Description = "The Kafka port (0: any free port).", DefaultValueFactory = _ => 9092 };
        var keeperPort = new Option<int>("--keeper-port") { Description = "The ZooKeeper-protocol port of the embedded Keeper (0: any free port).", DefaultValueFactory = _ => 2181 };
        var dataDir = new Option<DirectoryInfo?>("--data-dir") { Description = "Where the logs and Keeper's data go (default: a 'quill/data' directory under the user's local data)." };
        start.Options.Add(kafkaPort);
        start.Options.Add(keeperPort);
        var metricsPort = new Option<int>("--metrics-port") { Description = "The broker's Prometheus /metrics and /health HTTP port (metrics.http.port; 0, the default: off)." };
        start.Options.Add(dataDir);
        start.Options.Add(metricsPort);
        start.SetAction((parse, ct) => RunAsync(parse.GetValue(kafkaPort), parse.GetValue(keeperPort), parse.GetValue(dataDir), parse.GetValue(metricsPort), ct));
        return start;
    }

    private static async Task<int> RunAsync(int kafkaPort, int keeperPort, DirectoryInfo? dataDir, int metricsPort, CancellationToken ct)
    {
        string root = dataDir?.FullName ?? Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "quill", "data");
        using var loggers = Logging.CreateFactory();
        var log = loggers.CreateLogger("Quill");
        var keeperOptions = new KeeperOptions
        {
            DataDir = Path.Combine(root, "keeper"),
            ClientPort = keeperPort,
            ClientPortAddress = "127.0.0.1",
            FourLetterWordWhitelist = new HashSet<string>(StringComparer.Ordinal) { "srvr", "ruok", "stat", "mntr", "conf" },
        };
        await using var keeper = new KeeperServer(keeperOptions, loggers);
        try
        {
            await keeper.StartAsync();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidDataException)
        {
            log.LogCritical("Keeper could not start on 127.0.0.1:{Port}: {Reason}", keeperPort, e.Message);
            return ExitCodes.Failed;
        }

        // Kafka's own quickstart settings for one broker (config/server.properties): internal topics with one replica,
        // no initial rebalance delay.
        var brokerOptions = new BrokerOptions
        {
            BrokerId = 0,
            ListenHost = "127.0.0.1",
            Port = kafkaPort,
            LogDirs = [Path.Combine(root, "kafka-logs")],
            ZooKeeperConnect = $"127.0.0.1:{keeper.Endpoint.Port}",
            OffsetsTopicReplicationFactor = 1,
            TransactionStateLogReplicationFactor = 1,
            GroupInitialRebalanceDelayMs = 0,
            MetricsPort = metricsPort,
        };
        return await BrokerCommands.RunBrokerAsync(brokerOptions, loggers,
            $"Quill: Kafka on 127.0.0.1:{{0}}, ZooKeeper protocol on 127.0.0.1:{keeper.Endpoint.Port}, data in {root}", ct);
    }
}
