using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// Apache Curator 5 (Debian's libcurator-*-java) doing what Java applications do with ZooKeeper: an
/// InterProcessMutex around a read-modify-write counter, a LeaderLatch handing over, and a CuratorCache (built on a
/// persistent recursive watch). Run against Apache ZooKeeper, which proves the program, and against Keeper.
/// </summary>
public abstract class CuratorTests
{
    protected abstract string Server { get; }
    protected abstract string ServerDiagnostics();

    private static readonly string[] Jars =
        ["curator-client", "curator-framework", "curator-recipes", "zookeeper", "zookeeper-jute", "guava", "slf4j-nop", "slf4j-api"];

    [Fact]
    public async Task Lock_leader_latch_and_cache_work()
    {
        var missing = Jars.Where(j => !File.Exists($"/usr/share/java/{j}.jar")).ToList();
        Assert.True(missing.Count == 0,
            $"missing jars {string.Join(", ", missing)}: apt-get install zookeeper libcurator-framework-java libcurator-recipes-java libslf4j-java");
        string classPath = string.Join(':', Jars.Select(j => $"/usr/share/java/{j}.jar"));
        var work = Directory.CreateTempSubdirectory("quill-curator-").FullName;
        try
        {
            var source = Path.Combine(AppContext.BaseDirectory, "java", "CuratorCheck.java");
            var compile = await ToolRunner.RunAsync("javac", ["-cp", classPath, "-d", work, source], timeout: TimeSpan.FromMinutes(2));
            Assert.True(compile.Succeeded, "javac failed (apt-get install openjdk-17-jdk-headless):\n" + compile);
            var run = await ToolRunner.RunAsync("java", ["-cp", classPath + ":" + work, "CuratorCheck", Server, "/curator-" + Guid.NewGuid().ToString("N")[..8]],
                timeout: TimeSpan.FromMinutes(3));
            Assert.True(run.Succeeded, $"Curator program failed against {Server}:\n{run}\n{ServerDiagnostics()}");
            var lines = run.StdOut.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
            Assert.Equal(
            [
                "counter 50", "leaders 1", "new leader true", "created /cache", "created /cache/a", "changed /cache/a 2",
                "deleted /cache/a", "done",
            ], lines);
        }
        finally { Directory.Delete(work, recursive: true); }
    }
}

public sealed class CuratorAgainstKeeperTests(KeeperFixture fixture) : CuratorTests, IClassFixture<KeeperFixture>
{
    protected override string Server => fixture.Keeper.ConnectString;
    protected override string ServerDiagnostics() => fixture.Keeper.Diagnostics();
}

public sealed class CuratorAgainstApacheZooKeeperTests(ApacheZooKeeperServer zookeeper) : CuratorTests, IClassFixture<ApacheZooKeeperServer>
{
    protected override string Server => zookeeper.ConnectString;
    protected override string ServerDiagnostics() => zookeeper.Diagnostics();
}
