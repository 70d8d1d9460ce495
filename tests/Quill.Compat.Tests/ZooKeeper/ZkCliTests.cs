using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// Apache ZooKeeper's own command-line client (zkCli.sh, one command per run) against a server. The same tests run
/// against Apache ZooKeeper, which proves them, and against Keeper.
/// </summary>
public abstract class ZkCliTests
{
    private readonly string _root = "/zkcli-" + Guid.NewGuid().ToString("N")[..8];

    protected abstract string Server { get; }

    /// <summary>The server's own output, added to failure messages.</summary>
    protected abstract string ServerDiagnostics();

    [Fact]
    public async Task Create_get_set_and_stat()
    {
        var created = await Cli("create", _root, "hello");
        Expect(created.ExitCode == 0 && created.Messages.Contains($"Created {_root}"), created);

        var get = await Cli("get", _root);
        Expect(get.ExitCode == 0 && get.Output.SequenceEqual(["hello"]), get);

        var set = await Cli("set", _root, "world");
        Expect(set.ExitCode == 0 && set.Messages.Count == 0, set);

        var stat = await Cli("stat", _root);
        var fields = stat.StatFields;
        Expect(stat.ExitCode == 0 && fields.Count == 11, stat);
        Expect(fields["dataVersion"] == "1" && fields["dataLength"] == "5" && fields["numChildren"] == "0"
               && fields["cversion"] == "0" && fields["aclVersion"] == "0" && fields["ephemeralOwner"] == "0x0"
               && fields["cZxid"] != fields["mZxid"], stat);

        var getStat = await Cli("get", "-s", _root);
        Expect(getStat.ExitCode == 0 && getStat.Output.FirstOrDefault() == "world" && getStat.StatFields["dataVersion"] == "1", getStat);

        var stale = await Cli("set", "-v", "0", _root, "again");
        Expect(stale.ExitCode != 0 && stale.Messages.Contains($"version No is not valid : {_root}"), stale);
    }

    [Fact]
    public async Task Ls_lists_children_sorted()
    {
        await MustSucceed("create", _root, "");
        foreach (var child in new[] { "zeta", "alpha", "mid" }) await MustSucceed("create", $"{_root}/{child}", "x");

        var ls = await Cli("ls", _root);
        Expect(ls.ExitCode == 0 && ls.Output.SequenceEqual(["[alpha, mid, zeta]"]), ls);

        var root = await Cli("ls", "/");
        Expect(root.ExitCode == 0 && root.Output.Count == 1 && root.Output[0].Contains("zookeeper")
               && root.Output[0].Contains(_root[1..]), root);

        var stat = await Cli("stat", _root);
        Expect(stat.StatFields["numChildren"] == "3" && stat.StatFields["cversion"] == "3", stat);
    }

    [Fact]
    public async Task Failures_are_reported_with_zookeepers_messages()
    {
        await MustSucceed("create", _root, "x");

        var duplicate = await Cli("create", _root, "y");
        Expect(duplicate.ExitCode != 0 && duplicate.Messages.Contains($"Node already exists: {_root}"), duplicate);

        var missing = await Cli("get", $"{_root}/missing");
        Expect(missing.ExitCode != 0 && missing.Messages.Contains($"Node does not exist: {_root}/missing"), missing);

        var noParent = await Cli("create", $"{_root}/a/b", "x");
        Expect(noParent.ExitCode != 0 && noParent.Messages.Contains($"Node does not exist: {_root}/a/b"), noParent);

        await MustSucceed("create", $"{_root}/child", "x");
        var notEmpty = await Cli("delete", _root);
        Expect(notEmpty.ExitCode != 0 && notEmpty.Messages.Contains($"Node not empty: {_root}"), notEmpty);
    }

    [Fact]
    public async Task Delete_and_deleteall_remove_nodes()
    {
        await MustSucceed("create", _root, "x");
        await MustSucceed("create", $"{_root}/leaf", "x");
        await MustSucceed("create", $"{_root}/tree", "x");
        await MustSucceed("create", $"{_root}/tree/deeper", "x");

        var delete = await Cli("delete", $"{_root}/leaf");
        Expect(delete.ExitCode == 0, delete);
        var gone = await Cli("stat", $"{_root}/leaf");
        Expect(gone.ExitCode != 0 && gone.Messages.Contains($"Node does not exist: {_root}/leaf"), gone);

        var deleteAll = await Cli("deleteall", _root);
        Expect(deleteAll.ExitCode == 0, deleteAll);
        var ls = await Cli("ls", "/");
        Expect(ls.ExitCode == 0 && ls.Output.Count == 1 && !ls.Output[0].Contains(_root[1..]), ls);
    }

    [Fact]
    public async Task Sequential_and_ephemeral_nodes()
    {
        await MustSucceed("create", _root, "x");

        var first = await Cli("create", "-s", $"{_root}/n-", "a");
        Expect(first.ExitCode == 0 && first.Messages.Contains($"Created {_root}/n-0000000000"), first);
        var second = await Cli("create", "-s", $"{_root}/n-", "b");
        Expect(second.ExitCode == 0 && second.Messages.Contains($"Created {_root}/n-0000000001"), second);

        // zkCli's one-shot mode exits without closing its session, so the ephemeral outlives the process until the
        // session times out: seen from the next run, it is there and owned by a session.
        var ephemeral = await Cli("create", "-e", $"{_root}/eph", "e");
        Expect(ephemeral.ExitCode == 0 && ephemeral.Messages.Contains($"Created {_root}/eph"), ephemeral);
        var stat = await Cli("stat", $"{_root}/eph");
        Expect(stat.ExitCode == 0 && stat.StatFields["ephemeralOwner"] != "0x0", stat);

        var underEphemeral = await Cli("create", $"{_root}/eph/child", "x");
        Expect(underEphemeral.ExitCode != 0 && underEphemeral.Messages.Contains($"Ephemerals cannot have children: {_root}/eph/child"),
            underEphemeral);
    }

    private Task<ZkCliResult> Cli(params string[] args) => ToolRunner.RunZkCliAsync(Server, args);

    private async Task MustSucceed(params string[] args)
    {
        var result = await Cli(args);
        Expect(result.ExitCode == 0, result);
    }

    private void Expect(bool condition, ZkCliResult result)
    {
        if (!condition) Assert.Fail($"unexpected zkCli result against {Server}:\n{result}\n{ServerDiagnostics()}");
    }
}

public sealed class ZkCliAgainstKeeperTests(KeeperFixture fixture) : ZkCliTests, IClassFixture<KeeperFixture>
{
    protected override string Server => fixture.Keeper.ConnectString;
    protected override string ServerDiagnostics() => fixture.Keeper.Diagnostics();
}

public sealed class ZkCliAgainstApacheZooKeeperTests(ApacheZooKeeperServer zookeeper) : ZkCliTests, IClassFixture<ApacheZooKeeperServer>
{
    protected override string Server => zookeeper.ConnectString;
    protected override string ServerDiagnostics() => zookeeper.Diagnostics();
}
