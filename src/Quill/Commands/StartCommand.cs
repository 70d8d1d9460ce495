using System.CommandLine;
using Microsoft.Extensions.Logging;
using Quill.Broker;
using Quill.Hosting;
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
        var metricsPort = new Option<int>("--metrics-port")
        {
            Description = "One HTTP port for both servers: Prometheus /metrics (the broker's and Keeper's) and /health (200 once both serve); 0, the default: off.",
        };
        var brokers = new Option<int?>("--brokers")
        {
            Description = "Start a local development cluster of N broker processes (and --keepers Keeper processes) instead, and print its bootstrap list.",
        };
        var keepers = new Option<int>("--keepers") { Description = "With --brokers: how many Keeper servers (1: standalone, 3 or 5: an ensemble).", DefaultValueFactory = _ => 1 };
        var replicationPort = new Option<int?>("--replication-port")
        {
            Description = "With --brokers: give each broker a second listener, REPLICATION, on this port and up, for the traffic between brokers (inter.broker.listener.name); clients stay on --kafka-port and up.",
        };
        start.Options.Add(dataDir);
        start.Options.Add(metricsPort);
        start.Options.Add(brokers);
        start.Options.Add(keepers);
        start.Options.Add(replicationPort);
        // Signals are the host's (see Program): System.CommandLine's token is not used.
        start.SetAction((parse, _) => parse.GetValue(brokers) is { } n
            ? LocalCluster.RunAsync(n, parse.GetValue(keepers), parse.GetValue(dataDir), parse.GetValue(kafkaPort), parse.GetValue(keeperPort),
                parse.GetValue(replicationPort))
            : RunAsync(parse.GetValue(kafkaPort), parse.GetValue(keeperPort), parse.GetValue(dataDir), parse.GetValue(metricsPort)));
        return start;
    }

    private static async Task<int> RunAsync(int kafkaPort, int keeperPort, DirectoryInfo? dataDir, int metricsPort)
    {
        string root = dataDir?.FullName ?? Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "quill", "data");
        using var loggers = Logging.CreateFactory();
        var keeperOptions = new KeeperOptions
        {
            DataDir = Path.Combine(root, "keeper"),
            ClientPort = keeperPort,
            ClientPortAddress = "127.0.0.1",
            FourLetterWordWhitelist = new HashSet<string>(StringComparer.Ordinal) { "srvr", "ruok", "stat", "mntr", "conf" },
        };
        var keeper = new KeeperService(keeperOptions, loggers, $" on 127.0.0.1:{keeperPort}", metricsByHost: metricsPort > 0);

        // Kafka's own quickstart settings for one broker (config/server.properties): internal topics with one replica,
        // no initial rebalance delay. Made once Keeper runs: its port may have been chosen then.
        BrokerOptions Broker() => new()
        {
            BrokerId = 0,
            ListenHost = "127.0.0.1",
            Port = kafkaPort,
            LogDirs = [Path.Combine(root, "kafka-logs")],
            ZooKeeperConnect = $"127.0.0.1:{keeper.Server.Endpoint.Port}",
            OffsetsTopicReplicationFactor = 1,
            TransactionStateLogReplicationFactor = 1,
            GroupInitialRebalanceDelayMs = 0,
        };
        var broker = new BrokerService(Broker, loggers,
            port => $"Quill: Kafka on 127.0.0.1:{port}, ZooKeeper protocol on 127.0.0.1:{keeper.Server.Endpoint.Port}, data in {root}",
            metricsByHost: metricsPort > 0);
        // Started in this order, stopped in reverse: the broker closes its Keeper session before Keeper goes, and the
        // metrics port, up first, reports both servers until both have stopped.
        return metricsPort > 0
            ? await ServerHost.RunAsync(new MetricsService("127.0.0.1", metricsPort, [keeper, broker], loggers), keeper, broker)
            : await ServerHost.RunAsync(keeper, broker);
    }
}
