using System.Diagnostics;
using System.Text;
using Xunit;

namespace Quill.Testing;

/// <summary>
/// A real Apache ZooKeeper (standalone, from the Debian package) on 127.0.0.1 and a free port, with its config, data
/// and logs in a fresh temp directory. Share one per test class with <c>IClassFixture&lt;ApacheZooKeeperServer&gt;</c>
/// (default settings) or start one with <see cref="StartAsync"/>. It can be killed (SIGKILL) and started again on
/// the same port and data directory, which is how tests check that sessions and data survive a crash.
/// </summary>
public sealed class ApacheZooKeeperServer : ZooKeeperServerProcess, IAsyncLifetime
{
    private const string JarDirectory = "/usr/share/java";
    private const string InstallHint = "Apache ZooKeeper 3.8 and a JRE are needed: apt-get install zookeeper";

    /// <summary>Creates an unstarted server with default settings; xunit starts it through <see cref="IAsyncLifetime"/>.</summary>
    public ApacheZooKeeperServer() : this(2000, true, null) { }

    private ApacheZooKeeperServer(int tickTime, bool extendedTypesEnabled, IReadOnlyDictionary<string, string>? extraConfig)
        : base("quill-zk-", tickTime, extendedTypesEnabled, extraConfig)
    {
    }

    /// <summary>Starts a server and waits until it answers <c>ruok</c> and serves requests.</summary>
    /// <param name="tickTime">ZooKeeper's tick in ms; sessions may last from 2 to 20 ticks.</param>
    /// <param name="extendedTypesEnabled">Enables TTL nodes (and the server id is then limited to 254).</param>
    /// <param name="extraConfig">More zoo.cfg lines, key to value.</param>
    public static async Task<ApacheZooKeeperServer> StartAsync(
        int tickTime = 2000, bool extendedTypesEnabled = true, IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        var server = new ApacheZooKeeperServer(tickTime, extendedTypesEnabled, extraConfig);
        await server.InitializeAsync();
        return server;
    }

    public string LogFile => Path.Combine(Directory, "zookeeper.log");

    public Task InitializeAsync()
    {
        if (FindJava() is null) throw new InvalidOperationException($"java not found. {InstallHint}");
        if (!File.Exists(Path.Combine(JarDirectory, "zookeeper.jar")))
            throw new InvalidOperationException($"{JarDirectory}/zookeeper.jar not found. {InstallHint}");
        return StartFreshAsync();
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    /// <summary>What the process printed plus the server log, for failure messages.</summary>
    public override string Diagnostics()
    {
        string log = File.Exists(LogFile) ? File.ReadAllText(LogFile) : "(no log file)";
        return $"{base.Diagnostics()}\n--- {LogFile} (tail) ---\n{Tail(log, 8000)}";
    }

    protected override string Name => "ZooKeeper";

    // The JVM has no children worth killing, and killing the tree would race with its own exit.
    protected override bool KillProcessTree => false;

    protected override void WriteExtraConfig(StringBuilder config)
    {
        config.AppendLine("admin.enableServer=false");
        File.WriteAllText(Path.Combine(Directory, "log4j.properties"), $$"""
            log4j.rootLogger=INFO,FILE
            log4j.appender.FILE=org.apache.log4j.FileAppender
            log4j.appender.FILE.File={{LogFile}}
            log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
            log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
            """);
    }

    protected override ProcessStartInfo CreateStartInfo()
    {
        string java = FindJava() ?? throw new InvalidOperationException($"java not found. {InstallHint}");
        // zookeeper.jar's manifest names its other dependencies; log4j 1.2 plus its slf4j binding keep the
        // server's log in our temp dir instead of nowhere.
        string classPath = string.Join(':', new[] { "zookeeper.jar", "zookeeper-jute.jar", "slf4j-log4j12.jar", "log4j-1.2.jar" }
            .Select(jar => Path.Combine(JarDirectory, jar)).Where(File.Exists));
        var start = new ProcessStartInfo(java);
        // Small heap, serial GC and C1 only: several of these run at once on a 2-core machine and must start fast.
        foreach (var arg in new[]
                 {
                     "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                     "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.jmx.log4j.disable=true",
                     $"-Dlog4j.configuration=file:{Path.Combine(Directory, "log4j.properties")}",
                     "-cp", classPath, "org.apache.zookeeper.server.ZooKeeperServerMain", ConfigPath,
                 })
            start.ArgumentList.Add(arg);
        return start;
    }

    /// <summary>imok only says the process is up; srvr says whether it serves requests yet (data loaded).</summary>
    protected override async Task<bool> IsServingAsync(CancellationToken cancellationToken) =>
        await base.IsServingAsync(cancellationToken) &&
        (await FourLetterWordAsync("srvr", cancellationToken)).Contains("Mode:", StringComparison.Ordinal);

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
