using System.CommandLine;
using Confluent.Kafka;

namespace Quill.Commands.Kafka;

/// <summary>
/// The options every Kafka console tool shares, spelled as in Kafka's scripts: where the cluster is
/// (--bootstrap-server, or --zookeeper to find a broker through Keeper) and extra client properties from a file.
/// </summary>
public sealed class KafkaToolOptions
{
    public const string DefaultBootstrap = "127.0.0.1:9092";

    public Option<string?> BootstrapServer { get; } = new("--bootstrap-server", "--broker-list")
    {
        Description = $"host:port[,host:port...] of Kafka brokers (default {DefaultBootstrap}).",
    };

    public Option<string?> Zookeeper { get; } = new("--zookeeper")
    {
        Description = "host:port of Keeper or ZooKeeper: the tool reads a broker's address from /brokers/ids and asks that broker.",
    };

    public Option<FileInfo?> ConfigFile { get; }

    /// <param name="configFileOption">Kafka names the properties-file option per tool: --command-config, --producer.config, --consumer.config.</param>
    public KafkaToolOptions(string configFileOption = "--command-config")
    {
        ConfigFile = new Option<FileInfo?>(configFileOption) { Description = "A properties file of client settings (key=value lines)." };
    }

    public void AddTo(Command command)
    {
        command.Options.Add(BootstrapServer);
        command.Options.Add(Zookeeper);
        command.Options.Add(ConfigFile);
    }

    /// <summary>The client settings: the properties file first, then bootstrap.servers from the command line.</summary>
    public async Task<ClientConfig> ClientConfigAsync(ParseResult parse, CancellationToken ct)
    {
        var config = new ClientConfig();
        if (parse.GetValue(ConfigFile) is { } file)
        {
            if (!file.Exists) throw new ToolException($"{file.FullName}: no such file");
            foreach (var (key, value) in KeyValues.ParsePropertiesFile(File.ReadAllLines(file.FullName))) config.Set(key, value);
        }
        string? bootstrap = parse.GetValue(BootstrapServer);
        if (parse.GetValue(Zookeeper) is { } zookeeper)
        {
            if (bootstrap is not null) throw new ToolException("give --bootstrap-server or --zookeeper, not both");
            bootstrap = await ZookeeperBootstrap.FindBrokerAsync(zookeeper, ct);
        }
        config.BootstrapServers = bootstrap ?? config.BootstrapServers ?? DefaultBootstrap;
        return config;
    }
}

/// <summary>Bad usage found after parsing (a missing --topic, a malformed k=v): printed, exit code 2.</summary>
public sealed class ToolException(string message, int exitCode = ExitCodes.BadConfig) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Runs a tool's body with Kafka-script-like error reporting and the house exit codes.</summary>
public static class KafkaTool
{
    public static async Task<int> RunAsync(string tool, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ToolException e)
        {
            Console.Error.WriteLine($"quill {tool}: {e.Message}");
            return e.ExitCode;
        }
        catch (KafkaException e)
        {
            Console.Error.WriteLine($"quill {tool}: {KafkaErrors.Describe(e)}");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Failed;
        }
    }
}
