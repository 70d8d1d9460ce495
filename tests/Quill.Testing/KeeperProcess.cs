using System.Diagnostics;

namespace Quill.Testing;

/// <summary>
/// Our Keeper as a real process: <c>dotnet quill.dll keeper start --config zoo.cfg</c> on 127.0.0.1 and a free port,
/// with its config and data in a fresh temp directory. quill.dll is looked for next to the test assembly (test projects
/// that reference src/Quill get it copied there). The zoo.cfg keys mirror <see cref="ApacheZooKeeperServer"/>'s so
/// that differential tests configure both servers alike.
/// </summary>
public sealed class KeeperProcess : ZooKeeperServerProcess
{
    private KeeperProcess(int tickTime, bool extendedTypesEnabled, IReadOnlyDictionary<string, string>? extraConfig)
        : base("quill-keeper-", tickTime, extendedTypesEnabled, extraConfig)
    {
    }

    /// <summary>Starts Keeper and waits until it answers <c>ruok</c> with <c>imok</c>.</summary>
    /// <param name="tickTime">The tick in ms; sessions may last from 2 to 20 ticks.</param>
    /// <param name="extendedTypesEnabled">Enables TTL nodes, as in Apache ZooKeeper.</param>
    /// <param name="extraConfig">More zoo.cfg lines, key to value.</param>
    public static async Task<KeeperProcess> StartAsync(
        int tickTime = 2000, bool extendedTypesEnabled = true, IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        var keeper = new KeeperProcess(tickTime, extendedTypesEnabled, extraConfig);
        await keeper.StartFreshAsync();
        return keeper;
    }

    /// <summary>quill.dll next to the running test assembly.</summary>
    public static string QuillDll => Path.Combine(AppContext.BaseDirectory, "quill.dll");

    protected override string Name => "Keeper";

    protected override ProcessStartInfo CreateStartInfo()
    {
        if (!File.Exists(QuillDll))
            throw new InvalidOperationException(
                $"{QuillDll} not found: the test project must reference src/Quill/Quill.csproj so that quill.dll is copied next to it.");
        // The test host tells us which dotnet runs it; use the same one for the server.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet);
        foreach (var arg in new[] { QuillDll, "keeper", "start", "--config", ConfigPath }) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_NOLOGO"] = "1";
        return start;
    }
}
