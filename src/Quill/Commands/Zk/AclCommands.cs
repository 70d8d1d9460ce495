using System.Text;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

// ACLs and identities: getAcl, setAcl, addauth, whoami.

public sealed class GetAclCommand() : ZkCliCommand("getAcl", "[-s] path", flags: "s")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        string path = args.Args[1];
        ZkErrors.CheckPath(path);
        var acl = await shell.Client.GetAclAsync(path);
        foreach (var entry in acl.Acl)
            foreach (string line in AclText.Lines(entry)) shell.Out(line);
        if (args.Has('s'))
            foreach (string line in ZkFormat.StatLines(acl.Stat)) shell.Out(line);
    }
}

public sealed class SetAclCommand() : ZkCliCommand("setAcl", "[-s] [-v version] [-R] path acl", flags: "sR", valued: "v")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 3);
        string path = args.Args[1];
        var acl = AclText.Parse(args.Args[2], shell.Err);
        int version = IntOption(args, 'v', -1);
        ZkErrors.CheckPath(path);
        if (acl.Count == 0) throw new KeeperException(ErrorCode.InvalidAcl); // refused by the Java client, without a path

        var client = shell.Client;
        if (!args.Has('R'))
        {
            var stat = await client.SetAclAsync(path, acl, version);
            if (args.Has('s'))
                foreach (string line in ZkFormat.StatLines(stat)) shell.Out(line);
            return;
        }

        // Recursive: zkCli prints each node's failure on stdout and carries on.
        bool failed = false;
        foreach (string node in await ZkCommands.SubtreeAsync(client, path))
        {
            try
            {
                await client.SetAclAsync(node, acl, version);
            }
            catch (KeeperException e)
            {
                shell.Out(ZkErrors.JavaMessage(e.Code, e.Path));
                failed = true;
            }
        }
        // zkCli exits 0 even then; Quill exits 1 so that scripts notice.
        if (failed) throw new CliException("");
    }
}

public sealed class AddAuthCommand() : ZkCliCommand("addauth", "scheme auth")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 2);
        byte[] auth = args.Args.Count > 2 ? Encoding.UTF8.GetBytes(args.Args[2]) : [];
        await shell.Client.AddAuthAsync(args.Args[1], auth);
    }
}

public sealed class WhoAmICommand() : ZkCliCommand("whoami", "")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        Parse(words, 1);
        var identities = await shell.Client.WhoAmIAsync();
        shell.Out("Auth scheme: User");
        foreach (var identity in identities) shell.Out($"{identity.AuthScheme}: {identity.User}");
    }
}
