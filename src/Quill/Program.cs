using System.CommandLine;
using Quill.Commands;

namespace Quill;

/// <summary>The `quill` command: one entry point for every part of Quill.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Quill: a Kafka-compatible broker and a ZooKeeper-compatible coordination service (Keeper), in .NET.");
        root.Subcommands.Add(StartCommand.Create());
        root.Subcommands.Add(BrokerCommands.Create());
        root.Subcommands.Add(KeeperCommands.Create());
        root.Subcommands.Add(PerfCommands.Create());
        root.Subcommands.Add(Commands.Zk.ZkCommand.Create());
        root.Subcommands.Add(Commands.Kafka.TopicsCommand.Create());
        root.Subcommands.Add(Commands.Kafka.ProduceCommand.Create());
        root.Subcommands.Add(Commands.Kafka.ConsumeCommand.Create());
        root.Subcommands.Add(Commands.Kafka.GroupsCommand.Create());
        root.Subcommands.Add(Commands.Kafka.ConfigsCommand.Create());
        // No response files: `quill zk set /a @x` means the text "@x", as in zkCli.
        return await root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync();
    }
}
