namespace Quill.Cli.Tests;

/// <summary>ls, get, stat, getAllChildrenNumber, getEphemerals, one-shot.</summary>
public sealed class ReadCommandTests(KeeperFixture fixture) : ZkTestBase(fixture)
{
    [Fact]
    public async Task Ls_prints_sorted_children_with_stat_and_recursively()
    {
        await Ok("create", Root, "top");
        foreach (string child in new[] { "zeta", "Alpha", "mid" }) await Ok("create", $"{Root}/{child}", "x");
        await Ok("create", $"{Root}/mid/leaf", "y");

        var ls = await Ok("ls", Root);
        ExpectLines(["[Alpha, mid, zeta]"], ls.Output, ls);

        var withStat = await Ok("ls", "-s", Root);
        Expect(withStat.Output[0] == "[Alpha, mid, zeta]" && withStat.StatFields["numChildren"] == "3"
               && withStat.StatFields["dataLength"] == "3" && withStat.Output.Count == 12, withStat);

        var recursive = await Ok("ls", "-R", Root);
        ExpectLines([Root, $"{Root}/Alpha", $"{Root}/mid", $"{Root}/zeta", $"{Root}/mid/leaf"], recursive.Output, recursive);

        var leaf = await Ok("ls", $"{Root}/mid/leaf");
        ExpectLines(["[]"], leaf.Output, leaf);
    }

    [Fact]
    public async Task Get_prints_data_and_stat()
    {
        await Ok("create", Root, "héllo wörld");
        await Ok("set", Root, "second");

        var get = await Ok("get", Root);
        ExpectLines(["second"], get.Output, get);

        var withStat = await Ok("get", "-s", Root);
        var stat = withStat.StatFields;
        Expect(withStat.Output[0] == "second" && stat.Count == 11 && stat["dataVersion"] == "1" && stat["dataLength"] == "6"
               && stat["ephemeralOwner"] == "0x0" && stat["cZxid"].StartsWith("0x") && stat["cZxid"] != stat["mZxid"], withStat);
        // java.util.Date.toString() in UTC, e.g. "Mon Nov 23 13:10:37 UTC 2026".
        Expect(System.Text.RegularExpressions.Regex.IsMatch(stat["mtime"], @"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}$"), withStat);
    }

    [Fact]
    public async Task Stat_prints_the_fields_and_fails_for_a_missing_node()
    {
        await Ok("create", Root, "abc");
        await Ok("create", $"{Root}/child", "x");

        var stat = await Ok("stat", Root);
        ExpectLines(["cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion", "aclVersion", "ephemeralOwner", "dataLength", "numChildren"],
            stat.Output.Select(line => line.Split(" = ")[0]).ToList(), stat);
        Expect(stat.StatFields["numChildren"] == "1" && stat.StatFields["cversion"] == "1" && stat.StatFields["dataLength"] == "3", stat);

        var missing = await Zk("stat", $"{Root}/missing");
        Expect(missing.ExitCode == 1 && missing.Messages.SequenceEqual([$"Node does not exist: {Root}/missing"]) && missing.Output.Count == 0, missing);

        var get = await Zk("get", $"{Root}/missing");
        Expect(get.ExitCode == 1 && get.Messages.SequenceEqual([$"Node does not exist: {Root}/missing"]), get);

        var ls = await Zk("ls", $"{Root}/missing");
        Expect(ls.ExitCode == 1 && ls.Messages.SequenceEqual([$"Node does not exist: {Root}/missing"]), ls);
    }

    [Fact]
    public async Task GetAllChildrenNumber_counts_every_descendant()
    {
        await Ok("create", Root, "");
        await Ok("create", $"{Root}/a", "");
        await Ok("create", $"{Root}/a/b", "");
        await Ok("create", $"{Root}/c", "");

        var count = await Ok("getAllChildrenNumber", Root);
        ExpectLines(["3"], count.Output, count);

        var missing = await Zk("getAllChildrenNumber", $"{Root}/nope");
        Expect(missing.ExitCode == 1 && missing.Messages.SequenceEqual([$"Node does not exist: {Root}/nope"]), missing);
    }

    [Fact]
    public async Task GetEphemerals_lists_only_this_sessions_nodes()
    {
        // One-shot runs are separate sessions; the interactive shell keeps one, so its ephemerals show.
        var run = await QuillZk.RunInteractiveAsync(Server,
            $"create {Root} x", $"create -e {Root}/e1 x", $"create -e {Root}/e2 x", $"getEphemerals {Root}", "getEphemerals /nowhere", "quit");
        var lines = run.StdOut.Split('\n');
        Expect(run.ExitCode == 0 && lines.Any(l => l.EndsWith($"[{Root}/e1, {Root}/e2]") || l.EndsWith($"[{Root}/e2, {Root}/e1]"))
               && lines.Any(l => l.EndsWith("] []")), run);

        var other = await Ok("getEphemerals", Root);
        ExpectLines(["[]"], other.Output, other);
    }
}
