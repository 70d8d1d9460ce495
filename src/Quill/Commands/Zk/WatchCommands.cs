using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

// Persistent watches and removing watches: addWatch, removewatches. One-shot watches are ls/get/stat -w.

public sealed class AddWatchCommand() : ZkCliCommand("addWatch",
    "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE", valued: "m")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        var mode = args.Value('m')?.ToUpperInvariant() switch
        {
            null or "PERSISTENT_RECURSIVE" => AddWatchMode.PersistentRecursive,
            "PERSISTENT" => AddWatchMode.Persistent,
            _ => throw UsageError(),
        };
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        await shell.Client.AddWatchAsync(path, shell.Watcher, mode);
    }
}

public sealed class RemoveWatchesCommand() : ZkCliCommand("removewatches", "path [-c|-d|-a] [-l]", flags: "cdal")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        var type = args.Has('c') ? WatcherType.Children : args.Has('d') ? WatcherType.Data : WatcherType.Any;
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        await shell.Client.RemoveWatchesAsync(path, type, local: args.Has('l'));
    }
}
