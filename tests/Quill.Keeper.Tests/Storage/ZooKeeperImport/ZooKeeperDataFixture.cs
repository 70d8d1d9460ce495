using Quill.Testing;

namespace Quill.Keeper.Tests.Storage.ZooKeeperImport;

/// <summary>
/// An Apache ZooKeeper 3.8 data directory written by the real server: ZooKeeper runs with snapCount=10 (so there are
/// several snapshots and logs), kazoo writes the tree of scripts/zk_import_write.py and leaves a session open that
/// owns an ephemeral, and ZooKeeper is killed with SIGKILL. <see cref="Dump"/> is what kazoo read from ZooKeeper
/// just before. Tests import copies (<see cref="CopyData"/>), so they may damage them.
/// </summary>
public sealed class ZooKeeperDataFixture : IAsyncLifetime
{
    private ApacheZooKeeperServer? _zooKeeper;

    public string DataDir => _zooKeeper!.DataDir;
    /// <summary>scripts/zk_dump.py's lines for ZooKeeper's tree: one JSON object per znode, sorted by path.</summary>
    public IReadOnlyList<string> Dump { get; private set; } = [];

    public Task InitializeAsync() => InitializeAsync(new Dictionary<string, string>());

    public async Task InitializeAsync(IReadOnlyDictionary<string, string> extraConfig)
    {
        // Unknown zoo.cfg keys become zookeeper.* system properties: snapCount is zookeeper.snapCount.
        var config = new Dictionary<string, string>(extraConfig) { ["snapCount"] = "10" };
        _zooKeeper = await ApacheZooKeeperServer.StartAsync(extraConfig: config);
        var write = await ToolRunner.RunKazooScriptFileAsync(ImportScripts.Write, _zooKeeper.ConnectString);
        Assert.True(write.Succeeded, write + _zooKeeper.Diagnostics());
        Dump = await ImportScripts.DumpAsync(_zooKeeper.ConnectString);
        _zooKeeper.Kill();
    }

    /// <summary>A copy of ZooKeeper's dataDir, as the folder zookeeper-data in <paramref name="directory"/>.</summary>
    public string CopyData(string directory)
    {
        var target = Path.Combine(directory, "zookeeper-data");
        foreach (var file in Directory.EnumerateFiles(DataDir, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(DataDir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.Copy(file, copy);
        }
        return target;
    }

    public async Task DisposeAsync()
    {
        if (_zooKeeper is not null) await _zooKeeper.DisposeAsync();
    }
}
