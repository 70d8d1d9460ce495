using System.Text;
using System.Text.RegularExpressions;
using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>
/// The same one-shot commands through `quill zk` and Apache ZooKeeper's zkCli.sh, against the same Keeper: the
/// lines each prints on stdout and on stderr (without zkCli's connection preamble) and the exit codes must be equal.
/// Each tool works in mirror-image trees of its own, so the sequences can run side by side; then both read the
/// same nodes, where even the zxids and dates must match.
/// </summary>
public sealed class ZkCliDifferentialTests(KeeperFixture fixture) : ZkTestBase(fixture)
{
    // "{r}" is the tool's own root. Two scenarios, each in its own trees, so that four sequences (two per tool) run
    // side by side. Not here: "create path" without data, which zkCli reads back as "null" and quill zk as an empty
    // line (the Keeper client does not tell a null payload from an empty one).
    private static readonly string[][] Nodes =
    [
        ["create", "{r}", "hello"],
        ["create", "{r}/a", "1"],
        ["create", "{r}/a", "again"],
        ["create", "-s", "{r}/seq-", "x"],
        ["create", "-c", "{r}/box"],
        ["create", "-t", "600000", "{r}/ttl", "x"],
        ["create", "relative", "x"],
        ["create", "{r}//x", "x"],
        ["create", "-c", "-e", "{r}/ce"],
        ["ls", "{r}"],
        ["ls", "-s", "{r}"],
        ["get", "{r}"],
        ["set", "{r}", "world"],
        ["set", "-s", "{r}", "again"],
        ["set", "-v", "0", "{r}", "stale"],
        ["stat", "{r}/missing"],
        ["getAllChildrenNumber", "{r}"],
        ["delete", "{r}"],
        ["delete", "{r}/a"],
    ];

    private static readonly string[][] AclsAndSession =
    [
        ["create", "{r}", "x"],
        ["create", "{r}/acl", "x", "world:anyone:cdrwa,ip:127.0.0.1:cdrwa"],
        ["create", "{r}/bad", "x", "nonsense"],
        ["create", "{r}/perm", "x", "world:anyone:rz"],
        ["getAcl", "{r}/acl"],
        ["setAcl", "-s", "{r}/acl", "world:anyone:cdr,ip:127.0.0.1:cdrwa"],
        ["setAcl", "{r}/perm", "world:anyone:cdrwa"],
        ["getEphemerals", "{r}"],
        ["whoami"],
        ["sync", "{r}"],
        ["removewatches", "{r}"],
        ["ls"],
        ["ls", "-x", "{r}"],
        ["frobnicate", "{r}"],
    ];

    private static readonly string[][] Cleanup = [["deleteall", "{r}"], ["ls", "{r}"]];

    [Fact]
    public async Task One_shot_commands_print_what_zkcli_prints()
    {
        string id = Guid.NewGuid().ToString("N")[..8];
        string[] zkRoots = [$"/diff-zk-{id}-1", $"/diff-zk-{id}-2"], quillRoots = [$"/diff-qz-{id}-1", $"/diff-qz-{id}-2"];

        var mismatches = await CompareAsync([Nodes, AclsAndSession], zkRoots, quillRoots);

        // Both tools read the same nodes: nothing may differ, not even zxids and dates.
        string[][] sameNodeReads = [["get", "-s", zkRoots[0]], ["getAcl", "-s", $"{quillRoots[1]}/acl"], ["ls", "-R", quillRoots[0]]];
        foreach (var args in sameNodeReads)
        {
            var zk = await QuillZk.RunZkCliAsync(Server, args);
            var quill = await QuillZk.RunAsync(Server, args);
            if (Describe(zk) != Describe(quill)) mismatches.Add(Mismatch(args, zk, quill));
        }

        mismatches.AddRange(await CompareAsync([Cleanup, Cleanup], zkRoots, quillRoots));
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} command(s) differ:\n{string.Join("\n", mismatches)}");

        // Proof that zkCli really ran the commands (and the comparison is not between two empty outputs).
        var proof = await QuillZk.RunZkCliAsync(Server, "getAcl", "/zookeeper");
        Assert.True(proof.Output.SequenceEqual(["'world,'anyone", ": cdrwa"]), proof.ToString());
    }

    /// <summary>
    /// Runs each scenario through zkCli (under its zkCli root) and quill zk (under its quill root), every sequence in
    /// order and all of them side by side, and returns the steps whose outputs differ.
    /// </summary>
    private async Task<List<string>> CompareAsync(string[][][] scenarios, string[] zkRoots, string[] quillRoots)
    {
        var zk = scenarios.Select((steps, i) => RunInOrderAsync(steps, zkRoots[i], args => QuillZk.RunZkCliAsync(Server, args))).ToList();
        var quill = scenarios.Select((steps, i) => RunInOrderAsync(steps, quillRoots[i], args => QuillZk.RunAsync(Server, args))).ToList();
        await Task.WhenAll(zk.Concat(quill));
        var mismatches = new List<string>();
        for (int i = 0; i < scenarios.Length; i++)
            mismatches.AddRange(Compare(scenarios[i], zk[i].Result, quill[i].Result, zkRoots[i], quillRoots[i]));
        return mismatches;
    }

    private static Task<List<ZkCliResult>> RunInOrderAsync(string[][] steps, string root, Func<string[], Task<ZkCliResult>> run) =>
        Task.Run(async () =>
        {
            var runs = new List<ZkCliResult>();
            foreach (var step in steps) runs.Add(await run(Bind(step, root)));
            return runs;
        });

    private static List<string> Compare(string[][] steps, List<ZkCliResult> zkRuns, List<ZkCliResult> quillRuns, string zkRoot, string quillRoot)
    {
        var mismatches = new List<string>();
        for (int i = 0; i < steps.Length; i++)
        {
            bool unknownCommand = zkRuns[i].ExitCode == 127;
            string zk = Describe(zkRuns[i], zkRoot, unknownCommand), quill = Describe(quillRuns[i], quillRoot, unknownCommand);
            if (zk != quill) mismatches.Add(Mismatch(steps[i], zkRuns[i], quillRuns[i], zk, quill));
        }
        return mismatches;
    }

    private static string[] Bind(string[] step, string root) => step.Select(word => word.Replace("{r}", root)).ToArray();

    /// <summary>
    /// Exit code, stdout lines and stderr lines as one text. With a root, paths are written relative to it and the
    /// zxids and dates (which differ between the two trees) are masked. For an unknown command only the verdict
    /// counts: the usage list names the commands each tool has.
    /// </summary>
    private static string Describe(ZkCliResult run, string? root = null, bool unknownCommand = false)
    {
        var messages = unknownCommand ? run.Messages.TakeLast(1) : run.Messages;
        var text = new StringBuilder($"exit {run.ExitCode}\n");
        foreach (string line in run.Output) text.Append("out| ").Append(Normalize(line, root)).Append('\n');
        foreach (string line in messages) text.Append("err| ").Append(Normalize(line, root)).Append('\n');
        return text.ToString();
    }

    private static string Normalize(string line, string? root)
    {
        if (root is null) return line;
        line = line.Replace(root, "{r}");
        return Regex.Replace(line, "^(cZxid|mZxid|pZxid|ctime|mtime) = .*$", "$1 = *");
    }

    private static string Mismatch(string[] step, ZkCliResult zk, ZkCliResult quill, string? zkText = null, string? quillText = null) =>
        $"=== {string.Join(' ', step)}\n--- zkCli ---\n{zkText ?? Describe(zk)}--- quill zk ---\n{quillText ?? Describe(quill)}" +
        $"--- raw zkCli ---\n{zk.Raw}\n--- raw quill ---\n{quill.Raw}\n";
}
