using System.Globalization;
using System.Text;

namespace Quill.Commands;

/// <summary>
/// `quill keeper start --ensemble N`: a development ensemble of N Keeper processes on 127.0.0.1, each a
/// `quill keeper start --config` with its own zoo.cfg, myid and data directory under one folder (kept, so a restart
/// finds its data). Client ports count up from --client-port (2181, 2182, ...); quorum and election ports are 707 and
/// 1707 above each client port (2888, 3888 for 2181), as ZooKeeper's usual ports are. Prints the connect string; Ctrl+C or SIGTERM stops every member.
/// </summary>
public static class LocalEnsemble
{
    public static async Task<int> RunAsync(int count, DirectoryInfo? dataDir, int clientPort)
    {
        if (count < 1 || count > 9)
        {
            Console.Error.WriteLine("quill: --ensemble takes 1 to 9 servers (3 or 5 tolerate 1 or 2 failures)");
            return ExitCodes.BadConfig;
        }
        var root = dataDir?.FullName ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
            Environment.SpecialFolderOption.Create), "quill", "ensemble");
        var members = new LocalProcesses();
        string connect = Start(members, count, root, clientPort);
        Console.WriteLine($"Keeper ensemble of {count} in {root} (logs: s<N>/keeper.log)");
        Console.WriteLine($"Connect string: {connect}");
        foreach (string member in members.Describe()) Console.WriteLine(member);
        int exit = await members.RunUntilStoppedAsync();
        Console.WriteLine("Ensemble stopped");
        return exit;
    }

    /// <summary>
    /// Writes each member's zoo.cfg and myid under <paramref name="root"/> (s1, s2, ...) and starts them; one server
    /// is a standalone Keeper. Returns the connect string.
    /// </summary>
    public static string Start(LocalProcesses members, int count, string root, int clientPort)
    {
        var servers = new StringBuilder();
        if (count > 1)
            for (int i = 1; i <= count; i++)
                servers.AppendLine(Inv($"server.{i}=127.0.0.1:{clientPort + 706 + i}:{clientPort + 1706 + i};127.0.0.1:{clientPort + i - 1}"));
        for (int i = 1; i <= count; i++)
        {
            var dir = Path.Combine(root, Inv($"s{i}"));
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "myid"), Inv($"{i}"));
            var config = Path.Combine(dir, "zoo.cfg");
            // A standalone server takes its port from clientPort; members take theirs from their server.N line.
            string port = count == 1 ? Inv($"clientPort={clientPort}\nclientPortAddress=127.0.0.1\n") : "";
            File.WriteAllText(config, Inv($"tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={dir}\n4lw.commands.whitelist=*\n") + port + servers);
            members.Start(Inv($"server.{i}"), Path.Combine(dir, "keeper.log"), "keeper", "start", "--config", config);
        }
        return string.Join(",", Enumerable.Range(0, count).Select(i => Inv($"127.0.0.1:{clientPort + i}")));
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
