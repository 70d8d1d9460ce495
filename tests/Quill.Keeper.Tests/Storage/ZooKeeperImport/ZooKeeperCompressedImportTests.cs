using Quill.Testing;

namespace Quill.Keeper.Tests.Storage.ZooKeeperImport;

/// <summary>ZooKeeper compresses its snapshots when zookeeper.snapshot.compression.method says so; the import reads them all the same.</summary>
public sealed class ZooKeeperCompressedImportTests
{
    [Theory]
    [InlineData("gz")]
    [InlineData("snappy")]
    public async Task a_tree_from_compressed_zookeeper_snapshots_imports_the_same(string method)
    {
        var zooKeeper = new ZooKeeperDataFixture();
        try
        {
            await zooKeeper.InitializeAsync(new Dictionary<string, string> { ["snapshot.compression.method"] = method });
            var snapshots = Directory.GetFiles(Path.Combine(zooKeeper.DataDir, "version-2"), "snapshot.*");
            Assert.Contains(snapshots, s => s.EndsWith("." + method, StringComparison.Ordinal));

            var keeper = await KeeperProcess.StartAsync();
            await using var _ = keeper;
            keeper.Kill();
            var import = await ImportScripts.ImportAsync(keeper.ConfigPath, "--from", zooKeeper.DataDir);
            Assert.True(import.Succeeded, import.ToString());
            Assert.Contains($".{method}, ", import.StdOut); // the snapshot it read
            await keeper.StartAgainAsync();
            ImportScripts.AssertSameTree(zooKeeper.Dump, await ImportScripts.DumpAsync(keeper.ConnectString));
        }
        finally
        {
            await zooKeeper.DisposeAsync();
        }
    }
}
