using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

/// <summary>The commands that run on a session, and what several of them share.</summary>
public static class ZkCommands
{
    public static readonly IReadOnlyList<ZkCliCommand> All =
    [
        new LsCommand(), new GetCommand(), new StatCommand(), new GetAllChildrenNumberCommand(), new GetEphemeralsCommand(),
        new CreateCommand(), new SetCommand(), new DeleteCommand(), new DeleteAllCommand(),
        new GetAclCommand(), new SetAclCommand(), new AddAuthCommand(), new WhoAmICommand(),
        new AddWatchCommand(), new RemoveWatchesCommand(),
        new SyncCommand(), new CloseCommand(), new ConfigCommand(), new ReconfigCommand(),
    ];

    /// <summary>
    /// <paramref name="root"/> and every node below it, breadth first, children in sorted order (zkCli's ls -R
    /// order; deleteall deletes this list backwards). <paramref name="watcher"/>, if given, watches every child list.
    /// </summary>
    public static async Task<List<string>> SubtreeAsync(KeeperClient client, string root, Action<WatchedEvent>? watcher = null)
    {
        var nodes = new List<string> { root };
        for (int i = 0; i < nodes.Count; i++)
        {
            var children = await client.GetChildrenAsync(nodes[i], watcher);
            foreach (string child in children.Order(StringComparer.Ordinal)) nodes.Add(PathUtils.Join(nodes[i], child));
        }
        return nodes;
    }
}
