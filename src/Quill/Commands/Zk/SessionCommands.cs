using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

// The session itself: sync, close.

public sealed class SyncCommand() : ZkCliCommand("sync", "path")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        string path = Parse(words, 2).Args[1];
        ZkErrors.CheckPath(path);
        try
        {
            await shell.Client.SyncAsync(path);
        }
        catch (KeeperException e)
        {
            shell.Out($"Sync has failed. rc={(int)e.Code}");
            throw new CliException(""); // zkCli exits 0 here; Quill exits 1 so that scripts notice
        }
        shell.Out("Sync is OK");
    }
}

public sealed class CloseCommand() : ZkCliCommand("close", "")
{
    public override Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words) => shell.CloseAsync(announce: true);
}
