using System.Security.Cryptography;
using System.Text;

namespace Quill.Cli.Tests;

/// <summary>getAcl, setAcl, addauth, whoami.</summary>
public sealed class AclCommandTests(KeeperFixture fixture) : ZkTestBase(fixture)
{
    [Fact]
    public async Task GetAcl_prints_ids_and_permission_letters()
    {
        await Ok("create", Root, "x", "world:anyone:rcd,ip:127.0.0.1:awdrc");

        var acl = await Ok("getAcl", Root);
        ExpectLines(["'world,'anyone", ": cdr", "'ip,'127.0.0.1", ": cdrwa"], acl.Output, acl);

        var withStat = await Ok("getAcl", "-s", Root);
        Expect(withStat.Output.Count == 15 && withStat.StatFields["aclVersion"] == "0", withStat);

        var open = await Ok("getAcl", "/zookeeper");
        ExpectLines(["'world,'anyone", ": cdrwa"], open.Output, open);
    }

    [Fact]
    public async Task Malformed_acls_warn_like_zkcli()
    {
        var badEntry = await Zk("create", Root, "x", "nonsense");
        Expect(badEntry.ExitCode == 1 && badEntry.Messages.SequenceEqual(
            ["nonsense does not have the form scheme:id:perm", "KeeperErrorCode = InvalidACL", "Acl is not valid : null"]), badEntry);

        var badPerm = await Zk("create", Root, "x", "world:anyone:rq");
        Expect(badPerm.ExitCode == 0 && badPerm.Messages.SequenceEqual(["Unknown perm type: q", $"Created {Root}"]), badPerm);
        var acl = await Ok("getAcl", Root);
        ExpectLines(["'world,'anyone", ": r"], acl.Output, acl);
    }

    [Fact]
    public async Task SetAcl_with_version_stat_and_recursion()
    {
        await Ok("create", Root, "x");
        await Ok("create", $"{Root}/child", "y");

        var set = await Ok("setAcl", Root, "world:anyone:cdrwa");
        Expect(set.Output.Count == 0 && set.Messages.Count == 0, set);

        var stale = await Zk("setAcl", "-v", "0", Root, "world:anyone:cdrwa");
        Expect(stale.ExitCode == 1 && stale.Messages.SequenceEqual([$"version No is not valid : {Root}"]), stale);

        var withStat = await Ok("setAcl", "-s", "-v", "1", Root, "world:anyone:cdrwa");
        Expect(withStat.StatFields["aclVersion"] == "2", withStat);

        var recursive = await Ok("setAcl", "-R", Root, "world:anyone:cdr");
        Expect(recursive.Output.Count == 0, recursive);
        foreach (string node in new[] { Root, $"{Root}/child" })
        {
            var acl = await Ok("getAcl", node);
            ExpectLines(["'world,'anyone", ": cdr"], acl.Output, acl);
        }

        // Without ADMIN on the node its ACL can no longer be read or changed.
        var denied = await Zk("setAcl", Root, "world:anyone:cdrwa");
        Expect(denied.ExitCode == 1 && denied.Messages.SequenceEqual([$"Insufficient permission : {Root}"]), denied);

        var missing = await Zk("setAcl", $"{Root}/missing", "world:anyone:r");
        Expect(missing.ExitCode == 1 && missing.Messages.SequenceEqual([$"Node does not exist: {Root}/missing"]), missing);
    }

    [Fact]
    public async Task Digest_auth_grants_access_within_the_session()
    {
        string digest = Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes("bob:secret")));
        await Ok("create", Root, "guarded", $"digest:bob:{digest}:cdrwa");

        var anonymous = await Zk("get", Root);
        Expect(anonymous.ExitCode == 1 && anonymous.Messages.SequenceEqual([$"Insufficient permission : {Root}"]), anonymous);

        var whoami = await Ok("whoami");
        ExpectLines(["Auth scheme: User", "ip: 127.0.0.1"], whoami.Output, whoami);

        // Credentials last as long as the session: add them and use them in one interactive run.
        var run = await QuillZk.RunInteractiveAsync(Server, "addauth digest bob:secret", "whoami", $"get {Root}", $"getAcl {Root}");
        string[] lines = run.StdOut.Split('\n');
        Expect(run.ExitCode == 0 && lines.Contains("digest: bob") && lines.Any(l => l.EndsWith("] guarded"))
               && lines.Contains($": cdrwa") && lines.Any(l => l.EndsWith("'digest,'bob:" + digest)), run);
    }
}
