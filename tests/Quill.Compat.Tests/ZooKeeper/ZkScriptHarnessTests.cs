using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// The differential script against Apache ZooKeeper alone: proves the harness prints what ZooKeeper really does, and
/// that its output does not depend on run-to-run details (zxids, times, session ids, leftovers).
/// </summary>
public sealed class ZkScriptHarnessTests(ApacheZooKeeperServer zookeeper) : IClassFixture<ApacheZooKeeperServer>
{
    [Fact]
    public async Task Script_prints_ZooKeepers_known_outcomes()
    {
        var lines = await ZkScript.RunToEndAsync(zookeeper.ConnectString, "/harness-known");

        string[] known =
        [
            "4lw ruok | imok",
            "children /zookeeper | ok [config, quota]",
            "create duplicate | error NodeExistsError",
            "create missing parent | error NoNodeError",
            "get null data | ok None version=0 cversion=0 aversion=0 dataLength=0 numChildren=0 eph=False",
            "set stale version 1 | error BadVersionError",
            "delete non-empty | error NotEmptyError",
            "create sequential after churn | ok ~/seq/n-0000000003",
            "ephemeral stat | ok version=0 cversion=0 aversion=0 dataLength=1 numChildren=0 eph=True",
            "child under ephemeral | error NoChildrenForEphemeralsError",
            "events after other session closed | events [NodeDeleted ~/other-eph]",
            "get digest node unauthenticated | error NoAuthError",
            "alice: get digest node | ok b's3' version=0 cversion=0 aversion=0 dataLength=2 numChildren=0 eph=False",
            "txn fail in middle | ok [error RolledBackError, error BadVersionError, error RuntimeInconsistency]",
            "txn children after failures | ok [a, s-0000000002]",
            "delete fires child and data watch | events [NodeDeleted ~/w/second, NodeChildrenChanged ~/w]",
            "failed txn fires nothing | events []",
            "raw create invalid nul char | error BadArgumentsError",
            "no stray events | events []",
            "base gone | ok None",
        ];
        var missing = known.Where(line => !lines.Contains(line)).ToList();
        Assert.True(missing.Count == 0, $"lines missing:\n{string.Join('\n', missing)}\n\nfull output:\n{string.Join('\n', lines)}");
    }

    [Fact]
    public async Task Script_output_is_the_same_on_every_run()
    {
        // Twice on the same base (the script must clean up after itself), once on a nested base.
        var first = await ZkScript.RunToEndAsync(zookeeper.ConnectString, "/harness-repeat");
        var second = await ZkScript.RunToEndAsync(zookeeper.ConnectString, "/harness-repeat");
        var nested = await ZkScript.RunToEndAsync(zookeeper.ConnectString, "/harness/nested");

        Assert.True(first.SequenceEqual(second), LineDiff.Format(first, second, "first run", "second run"));
        Assert.True(first.SequenceEqual(nested), LineDiff.Format(first, nested, "/harness-repeat", "/harness/nested"));
    }
}
