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
        root.Subcommands.Add(Commands.Kafka.ReassignPartitionsCommand.Create());
        root.Subcommands.Add(Commands.Kafka.LeaderElectionCommand.Create());
        root.Subcommands.Add(StreamsCommand.Create());
        // No response files: `quill zk set /a @x` means the text "@x", as in zkCli.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration();
        // The `start` commands run servers in a Generic Host, which handles SIGTERM and Ctrl+C itself (an ordered,
        // draining stop with its own timeout); System.CommandLine's handling would end the process after 2 s.
        if (parse.CommandResult.Command.Name == "start") invocation.ProcessTerminationTimeout = null;
        return await parse.InvokeAsync(invocation);
    }
}
