using System.Diagnostics;
using System.Text;
using Quill.Testing;

namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>
/// An ensemble of N ZooKeeper-protocol servers as real processes on 127.0.0.1: each with its own zoo.cfg listing every
/// server as <c>server.N=127.0.0.1:quorumPort:electionPort;127.0.0.1:clientPort</c>, a data dir holding its myid, and
/// its logs, all under one temp directory. The <see cref="EnsembleKind"/> says which server runs; nothing else
/// differs. Servers are addressed by index (0 to N-1; server id = index + 1). Disposing kills every process it
/// started and deletes the directory unless <see cref="KeepFiles"/> is set.
/// </summary>
public sealed class EnsembleProcess : IAsyncDisposable
{
    private const string JarDirectory = "/usr/share/java";
    private const string ZooKeeperInstallHint = "Apache ZooKeeper 3.8 and a JRE are needed: apt-get install zookeeper";

    private EnsembleProcess(EnsembleKind kind, int tickTime, string directory, IReadOnlyList<EnsembleMember> members, EnsembleNetwork? network)
    {
        Kind = kind;
        TickTime = tickTime;
        Directory = directory;
        Members = members;
        Network = network;
    }

    public EnsembleKind Kind { get; }
    public int TickTime { get; }
    /// <summary>The temp directory: one folder per server (s1, s2, ...), and whatever a test puts beside them.</summary>
    public string Directory { get; }
    public IReadOnlyList<EnsembleMember> Members { get; }
    public int Size => Members.Count;
    /// <summary>The proxies between the servers, when started with <c>networkFaults</c>; null otherwise (servers dial
    /// each other directly).</summary>
    public EnsembleNetwork? Network { get; }
    /// <summary>Leave the directory (configs, data, logs) on disk when disposed: set when a test fails.</summary>
    public bool KeepFiles { get; set; }

    /// <summary>Every server, comma-separated, as clients take it.</summary>
    public string ConnectString => string.Join(',', Members.Select(m => m.ConnectString));

    /// <summary>One server only: a client given this stays with that server.</summary>
    public string ConnectStringOf(int index) => Members[index].ConnectString;

    /// <summary>
    /// Writes the configs, starts every server and waits until they form a quorum. <paramref name="tickTime"/> is
    /// short so that a lost leader is noticed in seconds (syncLimit 5 ticks) and sessions (2 to 20 ticks) fit a test.
    /// With <paramref name="networkFaults"/> the servers reach each other through an <see cref="EnsembleNetwork"/>
    /// (each zoo.cfg names proxies in the other servers' lines), so links between them can be cut.
    /// </summary>
    public static async Task<EnsembleProcess> StartAsync(EnsembleKind kind, int size = 3, int tickTime = 1000, TimeSpan? quorumTimeout = null,
        bool networkFaults = false)
    {
        CheckInstalled(kind);
        string directory = Path.Combine(Path.GetTempPath(), $"quill-ensemble-{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid().ToString("N")[..10]}");
        var ports = new HashSet<int>();
        int Port()
        {
            while (true)
            {
                int port = FreePort.Get();
                if (ports.Add(port)) return port;
            }
        }
        var members = Enumerable.Range(1, size)
            .Select(id => new EnsembleMember(id, Port(), Port(), Port(), Path.Combine(directory, $"s{id}")))
            .ToList();
        var network = networkFaults ? new EnsembleNetwork(kind, members, Port) : null;
        var ensemble = new EnsembleProcess(kind, tickTime, directory, members, network);
        try
        {
            foreach (var member in members) ensemble.WriteConfig(member);
            foreach (var member in members) ensemble.Launch(member);
            await ensemble.WaitForQuorumAsync(quorumTimeout ?? TimeSpan.FromSeconds(90));
            return ensemble;
        }
        catch
        {
            ensemble.KeepFiles = true;
            await ensemble.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL server <paramref name="index"/> (no clean shutdown).</summary>
    public void Kill(int index) => Members[index].Kill();

    /// <summary>SIGSTOP server <paramref name="index"/>.</summary>
    public void Pause(int index) => Members[index].Pause();

    /// <summary>SIGCONT server <paramref name="index"/>.</summary>
    public void Resume(int index) => Members[index].Resume();

    /// <summary>Starts a killed server again on its ports and data dir.</summary>
    public void Start(int index) => Launch(Members[index]);

    /// <summary>Kills server <paramref name="index"/> if it runs, starts it again and waits until it serves as
    /// leader or follower.</summary>
    public async Task RestartAsync(int index, TimeSpan? timeout = null)
    {
        Kill(index);
        Start(index);
        await WaitUntilAsync(
            async () => await Members[index].ModeAsync(TimeSpan.FromSeconds(2)) is "leader" or "follower",
            timeout ?? TimeSpan.FromSeconds(60),
            $"server {Members[index].Id} to rejoin after restart");
    }

    /// <summary>The index of the server that says it leads (by <c>srvr</c>), or null if none does now.</summary>
    public async Task<int?> FindLeaderAsync()
    {
        for (int i = 0; i < Size; i++)
            if (Members[i].IsRunning && await Members[i].ModeAsync(TimeSpan.FromSeconds(2)) == "leader") return i;
        return null;
    }

    /// <summary>Waits until every server runs and answers <c>srvr</c> as leader or follower, with exactly one leader.</summary>
    public Task WaitForQuorumAsync(TimeSpan timeout) =>
        WaitUntilAsync(async () =>
        {
            var modes = new List<string?>();
            foreach (var member in Members) modes.Add(member.IsRunning ? await member.ModeAsync(TimeSpan.FromSeconds(2)) : null);
            return modes.All(m => m is "leader" or "follower") && modes.Count(m => m == "leader") == 1;
        }, timeout, "every server to serve as leader or follower");

    /// <summary>Each server's state and log tails, for failure messages.</summary>
    public string Diagnostics() =>
        $"ensemble of {Size} {Kind} servers in {Directory}{(KeepFiles ? " (kept)" : "")}\n" +
        string.Join('\n', Members.Select(m => m.Diagnostics()));

    public async ValueTask DisposeAsync()
    {
        foreach (var member in Members) member.Kill();
        if (Network is not null) await Network.DisposeAsync();
        if (!KeepFiles)
        {
            try
            {
                if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still open: the temp dir stays behind, which is harmless.
            }
        }
    }

    private async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return;
            var exited = Members.FirstOrDefault(m => m.ExitCode is not null);
            if (exited is not null)
                throw new InvalidOperationException(
                    $"server {exited.Id} exited with code {exited.ExitCode} while waiting for {what}; it said:\n" +
                    $"{exited.LastOutput(5)}\n{Diagnostics()}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {what}.\n{Diagnostics()}");
            await Task.Delay(200);
        }
    }

    private void WriteConfig(EnsembleMember member)
    {
        System.IO.Directory.CreateDirectory(member.DataDir);
        File.WriteAllText(Path.Combine(member.DataDir, "myid"), $"{member.Id}\n");
        var config = new StringBuilder()
            .AppendLine($"tickTime={TickTime}")
            .AppendLine("initLimit=10")
            .AppendLine("syncLimit=5")
            .AppendLine($"dataDir={member.DataDir}")
            .AppendLine("4lw.commands.whitelist=*");
        if (Kind == EnsembleKind.ApacheZooKeeper) config.AppendLine("admin.enableServer=false");
        int self = Members.ToList().IndexOf(member);
        for (int i = 0; i < Size; i++)
        {
            // Its own line names its real ports (it binds them); the others' lines, the proxies it dials them through.
            var (quorumPort, electionPort) = Network is null || i == self ? (Members[i].QuorumPort, Members[i].ElectionPort) : Network.PortsFor(self, i);
            config.AppendLine(Members[i].ServerLine(quorumPort, electionPort));
        }
        File.WriteAllText(member.ConfigPath, config.ToString());
        if (Kind == EnsembleKind.ApacheZooKeeper)
        {
            File.WriteAllText(Path.Combine(member.Directory, "log4j.properties"), $$"""
                log4j.rootLogger=INFO,FILE
                log4j.appender.FILE=org.apache.log4j.FileAppender
                log4j.appender.FILE.File={{member.ServerLog}}
                log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
                log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [myid:{{member.Id}}] [%t:%C{1}@%L] - %m%n
                """);
        }
    }

    private void Launch(EnsembleMember member) =>
        member.Start(Kind == EnsembleKind.ApacheZooKeeper ? ZooKeeperStartInfo(member) : KeeperStartInfo(member));

    private static ProcessStartInfo ZooKeeperStartInfo(EnsembleMember member)
    {
        // zookeeper.jar's manifest names its other jars; log4j 1.2 with its slf4j binding writes the server's log.
        string classPath = string.Join(':', new[] { "zookeeper.jar", "zookeeper-jute.jar", "slf4j-log4j12.jar", "log4j-1.2.jar" }
            .Select(jar => Path.Combine(JarDirectory, jar)));
        var start = new ProcessStartInfo(FindJava() ?? throw new InvalidOperationException($"java not found. {ZooKeeperInstallHint}"));
        // Small heap, serial GC and C1 only: three JVMs on a 2-core machine must start fast.
        foreach (var arg in new[]
                 {
                     "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                     "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.jmx.log4j.disable=true",
                     $"-Dlog4j.configuration=file:{Path.Combine(member.Directory, "log4j.properties")}",
                     "-cp", classPath, "org.apache.zookeeper.server.quorum.QuorumPeerMain", member.ConfigPath,
                 })
            start.ArgumentList.Add(arg);
        return start;
    }

    private static ProcessStartInfo KeeperStartInfo(EnsembleMember member)
    {
        // The test host says which dotnet runs it; the server runs on the same one.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet);
        foreach (var arg in new[] { KeeperProcess.QuillDll, "keeper", "start", "--config", member.ConfigPath }) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }

    private static void CheckInstalled(EnsembleKind kind)
    {
        if (kind == EnsembleKind.ApacheZooKeeper)
        {
            if (FindJava() is null) throw new InvalidOperationException($"java not found. {ZooKeeperInstallHint}");
            if (!File.Exists(Path.Combine(JarDirectory, "zookeeper.jar")))
                throw new InvalidOperationException($"{JarDirectory}/zookeeper.jar not found. {ZooKeeperInstallHint}");
        }
        else if (!File.Exists(KeeperProcess.QuillDll))
        {
            throw new InvalidOperationException($"{KeeperProcess.QuillDll} not found: build src/Quill (the test project references it).");
        }
    }

    private static string? FindJava()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("JAVA_HOME") is { Length: > 0 } home) candidates.Add(Path.Combine(home, "bin", "java"));
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            candidates.Add(Path.Combine(dir, "java"));
        candidates.Add("/usr/bin/java");
        return candidates.FirstOrDefault(File.Exists);
    }
}
