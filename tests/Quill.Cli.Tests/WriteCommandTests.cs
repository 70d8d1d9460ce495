namespace Quill.Cli.Tests;

/// <summary>create, set, delete, deleteall, one-shot: what they print, where, and their exit codes.</summary>
public sealed class WriteCommandTests(KeeperFixture fixture) : ZkTestBase(fixture)
{
    [Fact]
    public async Task Create_reports_on_stderr_and_fails_like_zkcli()
    {
        var created = await Ok("create", Root, "data");
        Expect(created.Messages.SequenceEqual([$"Created {Root}"]) && created.Output.Count == 0, created);

        var again = await Zk("create", Root, "other");
        Expect(again.ExitCode == 1 && again.Messages.SequenceEqual([$"Node already exists: {Root}"]), again);

        var orphan = await Zk("create", $"{Root}/no/parent");
        Expect(orphan.ExitCode == 1 && orphan.Messages.SequenceEqual([$"Node does not exist: {Root}/no/parent"]), orphan);

        var relative = await Zk("create", "relative", "x");
        Expect(relative.ExitCode == 1 && relative.Messages.SequenceEqual(["Path must start with / character"]), relative);

        var empty = await Zk("create", $"{Root}//x");
        Expect(empty.ExitCode == 1 && empty.Messages.SequenceEqual([$"Invalid path string \"{Root}//x\" caused by empty node name specified @{Root.Length + 1}"]), empty);

        var usage = await Zk("create");
        Expect(usage.ExitCode == 1 && usage.Messages.SequenceEqual(["create [-s] [-e] [-c] [-t ttl] path [data] [acl]"]), usage);

        var mixed = await Zk("create", "-c", "-e", $"{Root}/c");
        Expect(mixed.ExitCode == 1 && mixed.Messages.SequenceEqual(["-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."]), mixed);

        var badTtl = await Zk("create", "-t", "0", $"{Root}/t");
        Expect(badTtl.ExitCode == 1 && badTtl.Messages.SequenceEqual(["ttl must be positive and cannot be larger than: 1099511627775"]), badTtl);

        var unknown = await Zk("create", "-x", $"{Root}/x");
        Expect(unknown.ExitCode == 1 && unknown.Messages.SequenceEqual(["org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"]), unknown);
    }

    [Fact]
    public async Task Create_modes_sequential_ephemeral_container_ttl()
    {
        await Ok("create", Root, "");
        var first = await Ok("create", "-s", $"{Root}/job-", "a");
        var second = await Ok("create", "-s", $"{Root}/job-", "b");
        Expect(first.Messages.SequenceEqual([$"Created {Root}/job-0000000000"]) && second.Messages.SequenceEqual([$"Created {Root}/job-0000000001"]), second);

        // The one-shot session ends when quill exits, and its ephemeral node with it.
        var ephemeral = await Ok("create", "-e", $"{Root}/eph", "x");
        Expect(ephemeral.Messages.SequenceEqual([$"Created {Root}/eph"]), ephemeral);
        var gone = await Zk("stat", $"{Root}/eph");
        Expect(gone.ExitCode == 1, gone);

        var container = await Ok("create", "-c", $"{Root}/box");
        Expect(container.Messages.SequenceEqual([$"Created {Root}/box"]), container);

        var ttl = await Ok("create", "-t", "600000", $"{Root}/ttl", "x");
        Expect(ttl.Messages.SequenceEqual([$"Created {Root}/ttl"]), ttl);

        var sequentialTtl = await Ok("create", "-s", "-t", "600000", $"{Root}/st-");
        Expect(sequentialTtl.Messages.Single().StartsWith($"Created {Root}/st-00000"), sequentialTtl);

        var ls = await Ok("ls", Root);
        Expect(ls.Output.Single().StartsWith("[box, job-0000000000, job-0000000001, st-00000") && ls.Output.Single().EndsWith(", ttl]"), ls);
    }

    [Fact]
    public async Task Set_with_stat_and_version()
    {
        await Ok("create", Root, "v0");

        var set = await Ok("set", Root, "v1");
        Expect(set.Output.Count == 0 && set.Messages.Count == 0, set);

        var withStat = await Ok("set", "-s", Root, "v22");
        Expect(withStat.StatFields["dataVersion"] == "2" && withStat.StatFields["dataLength"] == "3", withStat);

        var versioned = await Ok("set", "-v", "2", Root, "v3");
        Expect(versioned.Messages.Count == 0, versioned);

        var stale = await Zk("set", "-v", "1", Root, "v4");
        Expect(stale.ExitCode == 1 && stale.Messages.SequenceEqual([$"version No is not valid : {Root}"]), stale);

        var missing = await Zk("set", $"{Root}/missing", "x");
        Expect(missing.ExitCode == 1 && missing.Messages.SequenceEqual([$"Node does not exist: {Root}/missing"]), missing);

        var usage = await Zk("set", Root);
        Expect(usage.ExitCode == 1 && usage.Messages.SequenceEqual(["set [-s] [-v version] path data"]), usage);

        var get = await Ok("get", Root);
        ExpectLines(["v3"], get.Output, get);
    }

    [Fact]
    public async Task Delete_and_deleteall()
    {
        await Ok("create", Root, "");
        await Ok("create", $"{Root}/a", "");
        await Ok("create", $"{Root}/a/b", "");
        await Ok("create", $"{Root}/c", "");

        var notEmpty = await Zk("delete", Root);
        Expect(notEmpty.ExitCode == 1 && notEmpty.Messages.SequenceEqual([$"Node not empty: {Root}"]), notEmpty);

        var badVersion = await Zk("delete", "-v", "7", $"{Root}/c");
        Expect(badVersion.ExitCode == 1 && badVersion.Messages.SequenceEqual([$"version No is not valid : {Root}/c"]), badVersion);

        var delete = await Ok("delete", "-v", "0", $"{Root}/c");
        Expect(delete.Output.Count == 0 && delete.Messages.Count == 0, delete);

        var missing = await Zk("delete", $"{Root}/c");
        Expect(missing.ExitCode == 1 && missing.Messages.SequenceEqual([$"Node does not exist: {Root}/c"]), missing);

        // Batches of one: each node is its own transaction, children first.
        var deleteAll = await Ok("deleteall", Root, "-b", "1");
        Expect(deleteAll.Messages.Count == 0, deleteAll);
        var gone = await Zk("ls", Root);
        Expect(gone.ExitCode == 1 && gone.Messages.SequenceEqual([$"Node does not exist: {Root}"]), gone);

        var deleteMissing = await Zk("deleteall", Root);
        Expect(deleteMissing.ExitCode == 1 && deleteMissing.Messages.SequenceEqual([$"Node does not exist: {Root}"]), deleteMissing);

        var badBatch = await Zk("deleteall", Root, "-b", "many");
        Expect(badBatch.ExitCode == 1 && badBatch.Messages.SequenceEqual(["-b argument must be an int value"]), badBatch);
    }
}
