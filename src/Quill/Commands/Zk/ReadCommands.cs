using System.Text;
using Quill.Keeper.Client;

namespace Quill.Commands.Zk;

// The commands that read nodes: ls, get, stat, getAllChildrenNumber, getEphemerals.

public sealed class LsCommand() : ZkCliCommand("ls", "[-s] [-w] [-R] path", flags: "swR")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 0);
        bool watch = args.Has('w') | DeprecatedWatchWord(shell, args, "ls path [watch]", "ls [-w] path");
        if (args.Args.Count < 2) throw UsageError();
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        var watcher = watch ? shell.Watcher : null;
        if (args.Has('R'))
        {
            foreach (string node in await ZkCommands.SubtreeAsync(shell.Client, path, watcher)) shell.Out(node);
            return;
        }
        var listing = await shell.Client.GetChildrenWithStatAsync(path, watcher);
        shell.Out(ZkFormat.JavaList(listing.Children.Order(StringComparer.Ordinal)));
        if (args.Has('s'))
            foreach (string line in ZkFormat.StatLines(listing.Stat)) shell.Out(line);
    }
}

public sealed class GetCommand() : ZkCliCommand("get", "[-s] [-w] path", flags: "sw")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        bool watch = args.Has('w') | DeprecatedWatchWord(shell, args, "get path [watch]", "get [-s] [-w] path");
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        var node = await shell.Client.GetDataAsync(path, watch ? shell.Watcher : null);
        // zkCli prints "null" for a node created without data.
        shell.Out(node.IsNull ? "null" : Encoding.UTF8.GetString(node.Data));
        if (args.Has('s'))
            foreach (string line in ZkFormat.StatLines(node.Stat)) shell.Out(line);
    }
}

public sealed class StatCommand() : ZkCliCommand("stat", "[-w] path", flags: "w")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        bool watch = args.Has('w') | DeprecatedWatchWord(shell, args, "stat path [watch]", "stat [-w] path");
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        var stat = await shell.Client.ExistsAsync(path, watch ? shell.Watcher : null)
                   ?? throw new Keeper.Protocol.KeeperException(Keeper.Protocol.ErrorCode.NoNode, path);
        foreach (string line in ZkFormat.StatLines(stat)) shell.Out(line);
    }
}

public sealed class GetAllChildrenNumberCommand() : ZkCliCommand("getAllChildrenNumber", "path")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        string path = Parse(words, 2).Args[1];
        ZkErrors.CheckPath(path);
        shell.Out((await shell.Client.GetAllChildrenNumberAsync(path)).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

public sealed class GetEphemeralsCommand() : ZkCliCommand("getEphemerals", "path")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 1);
        string path = args.Args.Count > 1 ? args.Args[1] : "/";
        ZkErrors.CheckPath(path);
        shell.Out(ZkFormat.JavaList(await shell.Client.GetEphemeralsAsync(path)));
    }
}
