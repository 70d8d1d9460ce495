using System.Globalization;

namespace Quill.Commands;

/// <summary>
/// `quill start --brokers N [--keepers K]`: a development cluster on 127.0.0.1 of K Keeper processes (a standalone
/// server, or an ensemble as `quill keeper start --ensemble K` starts it) and N broker processes, each a
/// `quill broker start --config` with its own server.properties and log directory under one folder (kept, so a
/// restart finds its data). Brokers listen on --kafka-port and up, Keeper on --keeper-port and up. Prints the
/// bootstrap list once every broker serves; Ctrl+C or SIGTERM stops the brokers, then Keeper. With --replication-port,
/// each broker also listens on REPLICATION (that port and up), which the brokers use between themselves.
/// </summary>
public static class LocalCluster
{
    public static async Task<int> RunAsync(int brokers, int keepers, DirectoryInfo? dataDir, int kafkaPort, int keeperPort, int? replicationPort = null)
    {
        if (brokers < 1 || brokers > 9 || keepers < 1 || keepers > 9)
        {
            Console.Error.WriteLine("quill: --brokers and --keepers take 1 to 9 processes");
            return ExitCodes.BadConfig;
        }
        var root = dataDir?.FullName ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
            Environment.SpecialFolderOption.Create), "quill", "cluster");
        var processes = new LocalProcesses();
        string connect = LocalEnsemble.Start(processes, keepers, Path.Combine(root, "keeper"), keeperPort);
        var keeperPorts = Enumerable.Range(keeperPort, keepers).ToList();
        // Brokers started before a quorum serves would only retry; waiting keeps their logs free of that noise.
        if (await processes.WaitUntilServingAsync(keeperPorts, TimeSpan.FromSeconds(60)) is { } keeperProblem)
            return Fail(processes, $"Keeper did not start: {keeperProblem} (see {root}/keeper/s<N>/keeper.log)");

        for (int id = 0; id < brokers; id++)
        {
            var dir = Path.Combine(root, Inv($"broker-{id}"));
            Directory.CreateDirectory(dir);
            var config = Path.Combine(dir, "server.properties");
            File.WriteAllText(config, ServerProperties(id, kafkaPort + id, replicationPort + id, Path.Combine(dir, "logs"), connect, brokers));
            processes.Start(Inv($"broker {id}"), Path.Combine(dir, "broker.log"), "broker", "start", "--config", config);
        }
        var brokerPorts = Enumerable.Range(kafkaPort, brokers).ToList();
        if (await processes.WaitUntilServingAsync(brokerPorts, TimeSpan.FromSeconds(120)) is { } brokerProblem)
            return Fail(processes, $"the brokers did not start: {brokerProblem} (see {root}/broker-<N>/broker.log)");

        Console.WriteLine($"Quill cluster of {brokers} broker(s) and {keepers} Keeper server(s) in {root}");
        Console.WriteLine($"Bootstrap servers: {string.Join(",", brokerPorts.Select(p => Inv($"127.0.0.1:{p}")))}");
        Console.WriteLine($"Keeper connect string: {connect}");
        if (replicationPort is { } replication)
            Console.WriteLine($"Replication listener: {string.Join(",", Enumerable.Range(replication, brokers).Select(p => Inv($"127.0.0.1:{p}")))}");
        foreach (string member in processes.Describe()) Console.WriteLine(member);
        int exit = await processes.RunUntilStoppedAsync();
        Console.WriteLine("Cluster stopped");
        return exit;
    }

    /// <summary>
    /// One broker's settings. Internal topics get as many replicas as there are brokers, up to Kafka's default of 3
    /// (they are created once that many brokers are up).
    /// </summary>
    private static string ServerProperties(int id, int port, int? replicationPort, string logDir, string connect, int brokers)
    {
        int replicas = Math.Min(brokers, 3);
        string listeners = replicationPort is { } replication
            ? Inv($"""
                listeners=PLAINTEXT://127.0.0.1:{port},REPLICATION://127.0.0.1:{replication}
                listener.security.protocol.map=PLAINTEXT:PLAINTEXT,REPLICATION:PLAINTEXT
                inter.broker.listener.name=REPLICATION
                """)
            : Inv($"listeners=PLAINTEXT://127.0.0.1:{port}");
        return Inv($"""
            broker.id={id}
            {listeners}
            log.dirs={logDir}
            zookeeper.connect={connect}
            offsets.topic.replication.factor={replicas}
            transaction.state.log.replication.factor={replicas}
            transaction.state.log.min.isr={Math.Min(replicas, 2)}
            default.replication.factor={replicas}
            group.initial.rebalance.delay.ms=0

            """);
    }

    private static int Fail(LocalProcesses processes, string why)
    {
        Console.Error.WriteLine($"quill: {why}; stopping");
        processes.Stop();
        return ExitCodes.Failed;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
