using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>Runs scripts/zk_script.py (a fixed kazoo script that prints one normalized line per step) against a
/// server.</summary>
public static class ZkScript
{
    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "scripts", "zk_script.py");

    /// <summary>The run and its stdout lines. The caller decides whether a failed run is a failure.</summary>
    public static async Task<(ToolResult Run, IReadOnlyList<string> Lines)> RunAsync(string connectString, string basePath = "/compat")
    {
        var run = await ToolRunner.RunKazooScriptFileAsync(ScriptPath, connectString, basePath);
        var lines = run.StdOut.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Length > 0).ToList();
        return (run, lines);
    }

    /// <summary>Runs the script and fails the test unless it ran to its last step.</summary>
    public static async Task<IReadOnlyList<string>> RunToEndAsync(string connectString, string basePath = "/compat")
    {
        var (run, lines) = await RunAsync(connectString, basePath);
        Assert.True(run.Succeeded && lines.LastOrDefault() == "done | ok", $"zk_script.py did not finish against {connectString}:\n{run}");
        return lines;
    }
}
