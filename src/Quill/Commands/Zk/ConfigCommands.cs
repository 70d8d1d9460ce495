using System.Globalization;
using System.Text;
using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

// The ensemble's membership: config (read /zookeeper/config) and reconfig (change it), as zkCli 3.5+ has them.

public sealed class ConfigCommand() : ZkCliCommand("config", "[-c] [-w] [-s]", flags: "cws")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        var args = Parse(words, 1);
        var node = await shell.Client.GetDataAsync("/zookeeper/config", args.Has('w') ? shell.Watcher : null);
        string text = Encoding.UTF8.GetString(node.Data);
        // -c: only what a client needs, the version and the client addresses (zkCli's ConfigUtils.getClientConfigStr).
        shell.Out(args.Has('c') ? ClientConfig(text) : text.TrimEnd('\n'));
        if (args.Has('s'))
            foreach (string line in ZkFormat.StatLines(node.Stat)) shell.Out(line);
    }

    private static string ClientConfig(string text)
    {
        string version = "";
        var clients = new List<string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith("version=", StringComparison.Ordinal)) version = line["version=".Length..];
            else if (line.IndexOf(';') is var semi and >= 0) clients.Add(line[(semi + 1)..]);
        }
        return $"{version} {string.Join(",", clients)}";
    }
}

public sealed class ReconfigCommand() : ZkCliCommand("reconfig",
    "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
    flags: "s")
{
    public override async Task ExecuteAsync(ZkShell shell, IReadOnlyList<string> words)
    {
        // Long option names (-add, -remove, -members, -file) as zkCli takes them; each takes the next word.
        string? joining = null, leaving = null, members = null;
        long fromConfig = -1;
        bool stat = false;
        for (int i = 1; i < words.Count; i++)
        {
            string Next() => i + 1 < words.Count ? words[++i] : throw UsageError();
            switch (words[i])
            {
                case "-s": stat = true; break;
                case "-add": joining = joining is null ? Next() : joining + "," + Next(); break;
                case "-remove": leaving = leaving is null ? Next() : leaving + "," + Next(); break;
                case "-members": members = Next(); break;
                case "-file":
                    string path = Next();
                    if (!File.Exists(path)) throw new CliException($"Can't read file {path}");
                    members = string.Join(",", File.ReadAllLines(path).Select(l => l.Trim())
                        .Where(l => l.StartsWith("server.", StringComparison.Ordinal)));
                    break;
                case "-v":
                    string v = Next();
                    if (!long.TryParse(v, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out fromConfig))
                        throw new CliException($"-v argument must be a hex number (a config version), got {v}");
                    break;
                default: throw UsageError();
            }
        }
        if (members is not null && (joining is not null || leaving is not null))
            throw new CliException("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)");
        if (members is null && joining is null && leaving is null) throw UsageError();
        var node = await shell.Client.ReconfigAsync(joining, leaving, members, fromConfig);
        shell.Out("Committed new configuration:");
        shell.Out(Encoding.UTF8.GetString(node.Data).TrimEnd('\n'));
        if (stat)
            foreach (string line in ZkFormat.StatLines(node.Stat)) shell.Out(line);
    }
}
