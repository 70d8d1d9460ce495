using Quill.Testing;

namespace Quill.Keeper.Tests.Storage.ZooKeeperImport;

/// <summary>The kazoo scripts and the `quill keeper import-zookeeper` command the import tests run.</summary>
internal static class ImportScripts
{
    public static string Write => Path.Combine(AppContext.BaseDirectory, "scripts", "zk_import_write.py");
    private static string Dump => Path.Combine(AppContext.BaseDirectory, "scripts", "zk_dump.py");

    /// <summary>Every znode of the server at <paramref name="connectString"/> as scripts/zk_dump.py prints it.</summary>
    public static async Task<IReadOnlyList<string>> DumpAsync(string connectString)
    {
        var dump = await ToolRunner.RunKazooScriptFileAsync(Dump, connectString);
        Assert.True(dump.Succeeded, dump.ToString());
        return dump.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Runs `quill keeper import-zookeeper --config CONFIG args...` as a process.</summary>
    public static Task<ToolResult> ImportAsync(string config, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return ToolRunner.RunAsync(dotnet, new[] { KeeperProcess.QuillDll, "keeper", "import-zookeeper", "--config", config }.Concat(args),
            environment: new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1" });
    }

    /// <summary>A zoo.cfg for an import that is not followed by a start: only dataDir matters.</summary>
    public static string WriteConfig(string directory)
    {
        var config = Path.Combine(directory, "keeper.cfg");
        File.WriteAllText(config, $"dataDir={Path.Combine(directory, "keeper-data")}\nextendedTypesEnabled=true\n");
        return config;
    }

    /// <summary>Asserts that two dumps list the same znodes with the same data, stat and ACL, showing the first difference.</summary>
    public static void AssertSameTree(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        for (int i = 0; i < Math.Min(expected.Count, actual.Count); i++)
            Assert.True(expected[i] == actual[i], $"znode {i} differs:\nZooKeeper: {expected[i]}\nKeeper:    {actual[i]}");
        Assert.True(expected.Count == actual.Count,
            $"ZooKeeper has {expected.Count} znodes, Keeper {actual.Count}:\n{string.Join('\n', expected.Except(actual).Concat(actual.Except(expected)))}");
    }
}
