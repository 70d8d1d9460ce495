using System.Globalization;
using System.Text;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

// The commands that change nodes: create, set, delete, deleteall.

public sealed class CreateCommand() : ZkCliCommand("create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]", flags: "esc", valued: "t")
{
    /// <summary>The largest TTL: the server packs it into 40 bits of ephemeralOwner.</summary>
    private const long MaxTtl = 0xFF_FFFF_FFFF;

    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        bool ephemeral = args.Has('e'), sequential = args.Has('s'), container = args.Has('c'), hasTtl = args.Has('t');
        if (container && (ephemeral || sequential))
            throw new CliException("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.");
        long ttl = -1;
        if (hasTtl && !long.TryParse(args.Value('t'), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out ttl))
            throw new CliException("-t argument must be a long value");
        if (hasTtl && ephemeral) throw new CliException("TTLs cannot be used with Ephemeral znodes");
        if (hasTtl && container) throw new CliException("TTLs cannot be used with Container znodes");

        var mode = (ephemeral, sequential, container, hasTtl) switch
        {
            (true, true, _, _) => CreateMode.EphemeralSequential,
            (true, _, _, _) => CreateMode.Ephemeral,
            (_, true, _, true) => CreateMode.PersistentSequentialWithTtl,
            (_, true, _, _) => CreateMode.PersistentSequential,
            (_, _, true, _) => CreateMode.Container,
            (_, _, _, true) => CreateMode.PersistentWithTtl,
            _ => CreateMode.Persistent,
        };
        if (hasTtl && ttl is <= 0 or > MaxTtl)
            throw new CliException($"ttl must be positive and cannot be larger than: {MaxTtl}");

        string path = args.Args[1];
        byte[]? data = args.Args.Count > 2 ? Encoding.UTF8.GetBytes(args.Args[2]) : null;
        var acl = args.Args.Count > 3 ? AclText.Parse(args.Args[3], shell.Err) : Acl.OpenAclUnsafe;
        ZkErrors.CheckPath(path, mode.IsSequential());
        if (acl.Count == 0)
        {
            // The Java client refuses an empty ACL itself, before a path is attached to the error.
            shell.Err(ZkErrors.JavaMessage(ErrorCode.InvalidAcl, null));
            throw new KeeperException(ErrorCode.InvalidAcl);
        }

        string created;
        try
        {
            created = await shell.Client.CreateAsync(path, data, acl, mode, hasTtl ? ttl : -1);
        }
        catch (KeeperException e) when (e.Code == ErrorCode.InvalidAcl)
        {
            shell.Err(ZkErrors.JavaMessage(e.Code, e.Path));
            throw;
        }
        catch (KeeperException e) when (e.Code == ErrorCode.EphemeralOnLocalSession)
        {
            shell.Err("Unable to create ephemeral node on a local session");
            throw;
        }
        shell.Err($"Created {created}");
    }
}

public sealed class SetCommand() : ZkCliCommand("set", "[-s] [-v version] path data", flags: "s", valued: "v")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 3);
        int version = IntOption(args, 'v', -1);
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        var stat = await shell.Client.SetDataAsync(path, Encoding.UTF8.GetBytes(args.Args[2]), version);
        if (args.Has('s'))
            foreach (string line in ZkFormat.StatLines(stat)) shell.Out(line);
    }
}

public sealed class DeleteCommand() : ZkCliCommand("delete", "[-v version] path", valued: "v")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        int version = IntOption(args, 'v', -1);
        // The old form "delete path version": zkCli warns and deletes whatever the version.
        if (args.Args.Count > 2)
        {
            shell.Err("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.");
            version = -1;
        }
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        await shell.Client.DeleteAsync(path, version);
    }
}

public sealed class DeleteAllCommand() : ZkCliCommand("deleteall", "path [-b batch size]", valued: "b")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        int batchSize = IntOption(args, 'b', 1000);
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        var client = shell.Client;
        var nodes = await ZkCommands.SubtreeAsync(client, path);
        nodes.Reverse(); // children before their parents

        // Each batch is one transaction; a failed one leaves its nodes (zkCli carries on with the others too).
        bool failed = false;
        foreach (var batch in nodes.Chunk(batchSize > 0 ? batchSize : nodes.Count))
        {
            try
            {
                await client.MultiAsync(batch.Select(node => Op.Delete(node)));
            }
            catch (KeeperException)
            {
                failed = true;
            }
        }
        // zkCli prints this and still exits 0; Quill exits 1 so that scripts notice.
        if (failed) throw new CliException("Failed to delete some node(s) in the subtree!");
    }
}
