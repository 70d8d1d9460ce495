using Quill.Testing;

namespace Quill.Cli.Tests;

/// <summary>How `quill zk` is invoked: options, usage, exit codes, an unreachable server, a chroot.</summary>
public sealed class InvocationTests(KeeperFixture fixture) : ZkTestBase(fixture)
{
    [Fact]
    public async Task Unknown_command_prints_usage_and_exits_127()
    {
        var run = await Zk("frobnicate", "/");
        Expect(run.ExitCode == 127 && run.Messages[^1] == "Command not found: Command not found frobnicate"
               && run.Messages.Contains("\tls [-s] [-w] [-R] path") && run.Messages.Contains("\tcreate [-s] [-e] [-c] [-t ttl] path [data] [acl]"), run);
    }

    [Fact]
    public async Task Help_lists_the_commands()
    {
        var help = await QuillZk.RunRawAsync(["help"]);
        Expect(help.ExitCode == 0 && help.StdOut.Contains("\tgetAcl [-s] path\n") && help.StdOut.Contains("\tremovewatches path [-c|-d|-a] [-l]\n"), help);

        var dashH = await QuillZk.RunRawAsync(["-h"]);
        Expect(dashH.ExitCode == 0 && dashH.StdOut.Contains("usage: quill zk") && dashH.StdOut.Contains("\tsync path\n"), dashH);
    }

    [Fact]
    public async Task Missing_arguments_print_the_commands_usage_and_exit_1()
    {
        foreach (var (args, usage) in new[]
                 {
                     (new[] { "ls" }, "ls [-s] [-w] [-R] path"),
                     (["get", "-s"], "get [-s] [-w] path"),
                     (["delete"], "delete [-v version] path"),
                     (["setAcl", "/"], "setAcl [-s] [-v version] [-R] path acl"),
                     (["sync"], "sync path"),
                 })
        {
            var run = await Zk(args);
            Expect(run.ExitCode == 1 && run.Messages.SequenceEqual([usage]), run);
        }
    }

    [Fact]
    public async Task Bad_invocations_exit_2()
    {
        var noServer = await QuillZk.RunRawAsync(["-server"]);
        Expect(noServer.ExitCode == 2 && noServer.StdErr.Contains("no argument found for option -server"), noServer);

        var badTimeout = await QuillZk.RunRawAsync(["-server", Server, "-timeout", "soon", "ls", "/"]);
        Expect(badTimeout.ExitCode == 2 && badTimeout.StdErr.Contains("-timeout"), badTimeout);
    }

    [Fact]
    public async Task Unreachable_server_fails_with_connection_loss()
    {
        // Bound but not listening, and held until the end: connections are refused, and no test server probing for a
        // free port can start listening there meanwhile.
        using var reserved = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        reserved.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int port = ((System.Net.IPEndPoint)reserved.LocalEndPoint!).Port;
        var run = await QuillZk.RunRawAsync(["-server", $"127.0.0.1:{port}", "-timeout", "1500", "ls", "/"], timeout: TimeSpan.FromSeconds(30));
        Expect(run.ExitCode == 1 && run.StdOut.StartsWith($"Connecting to 127.0.0.1:{port}") && run.StdErr.Contains("KeeperErrorCode = ConnectionLoss"), run);
    }

    [Fact]
    public async Task Chroot_makes_paths_relative()
    {
        await Ok("create", Root, "");
        await Ok("create", $"{Root}/inside", "in");

        var ls = await QuillZk.RunAsync(Server + Root, "ls", "/");
        Expect(ls.ExitCode == 0 && ls.Output.SequenceEqual(["[inside]"]), ls);

        var create = await QuillZk.RunAsync(Server + Root, "create", "/made", "m");
        Expect(create.ExitCode == 0 && create.Messages.SequenceEqual(["Created /made"]), create);

        var missing = await QuillZk.RunAsync(Server + Root, "get", "/absent");
        Expect(missing.ExitCode == 1 && missing.Messages.SequenceEqual(["Node does not exist: /absent"]), missing);

        var outside = await Ok("get", $"{Root}/made");
        ExpectLines(["m"], outside.Output, outside);
    }
}
