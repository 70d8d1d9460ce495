using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>Runs `dotnet quill.dll zk ...` and zkCli.sh as processes, with the same time zone (dates are compared).</summary>
public static class QuillZk
{
    private static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>
    {
        ["TZ"] = "UTC",
        ["DOTNET_NOLOGO"] = "1",
        // zkCli.sh passes CLIENT_JVMFLAGS after its own -cp and java takes the last one: the same class path plus
        // slf4j's no-op binding (no SLF4J warnings), and a JVM tuned to start fast.
        ["CLIENT_JVMFLAGS"] = "-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-nop.jar " +
                              "-Xms16m -XX:+UseSerialGC -XX:TieredStopAtLevel=1",
    };

    /// <summary>One-shot: <c>quill zk -server server args...</c>, with zkCli's connection preamble filtered out.</summary>
    public static async Task<ZkCliResult> RunAsync(string server, params string[] args) =>
        new(await RunRawAsync(["-server", server, .. args]));

    /// <summary><c>quill zk</c> with exactly <paramref name="words"/> after "zk", and <paramref name="stdin"/> as input.</summary>
    public static Task<ToolResult> RunRawAsync(IEnumerable<string> words, string? stdin = null, TimeSpan? timeout = null) =>
        ToolRunner.RunAsync(Dotnet, [KeeperProcess.QuillDll, "zk", .. words], stdin, timeout ?? TimeSpan.FromSeconds(60), Environment);

    /// <summary>The interactive shell, fed <paramref name="lines"/> on stdin (it ends at EOF or quit).</summary>
    public static Task<ToolResult> RunInteractiveAsync(string server, params string[] lines) =>
        RunRawAsync(["-server", server], string.Join('\n', lines) + "\n");

    /// <summary>The real zkCli.sh (Apache ZooKeeper 3.8), one-shot.</summary>
    public static async Task<ZkCliResult> RunZkCliAsync(string server, params string[] args)
    {
        if (!File.Exists(ToolRunner.ZkCli))
            throw new InvalidOperationException($"{ToolRunner.ZkCli} not found: apt-get install zookeeper");
        return new ZkCliResult(await ToolRunner.RunAsync(ToolRunner.ZkCli, ["-server", server, .. args], environment: Environment));
    }

    /// <summary>The dotnet that runs the tests runs quill too.</summary>
    private static string Dotnet =>
        System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
