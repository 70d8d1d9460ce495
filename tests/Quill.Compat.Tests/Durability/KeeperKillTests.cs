using System.Collections.Concurrent;
using System.Diagnostics;
using Quill.Testing;

namespace Quill.Compat.Tests.Durability;

/// <summary>
/// kill -9 at a random moment under concurrent writes from kazoo: every create that kazoo saw acknowledged is there
/// after a restart, and a session that existed before the crash can be resumed with its ephemerals.
/// </summary>
public sealed class KeeperKillTests
{
    // Each writer creates /kill/w<id>-<n> with data "<id>-<n>" and prints "ack <n>" once Keeper has acknowledged it.
    private const string WriterScript = """
        import sys
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1], timeout=10, connection_retry=None, command_retry=None)
        zk.start(timeout=15)
        zk.ensure_path('/kill')
        print('ready', flush=True)
        n = 0
        try:
            while True:
                zk.create('/kill/w%s-%d' % (sys.argv[2], n), ('%s-%d' % (sys.argv[2], n)).encode())
                print('ack %d' % n, flush=True)
                n += 1
        except Exception as e:
            print('stopped %s' % type(e).__name__, flush=True)
        """;

    private const string CheckScript = """
        import sys
        from kazoo.client import KazooClient
        zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=15)
        for child in sorted(zk.get_children('/kill')):
            data, _ = zk.get('/kill/' + child)
            print(child, data.decode())
        zk.stop()
        """;

    [Fact]
    public async Task AcknowledgedCreatesSurviveKillNine()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        var dir = Path.Combine(keeper.Directory, "scripts");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "writer.py"), WriterScript);
        File.WriteAllText(Path.Combine(dir, "check.py"), CheckScript);

        for (int round = 0; round < 3; round++)
        {
            var acked = new ConcurrentDictionary<string, bool>();
            var writers = Enumerable.Range(0, 4).Select(i => StartWriter(dir, keeper.ConnectString, $"{round}x{i}", acked)).ToList();
            // Let the writers get going, then kill Keeper at a moment that depends on the round.
            var deadline = Stopwatch.StartNew();
            while (acked.Count < 200 + 150 * round && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(5);
            Assert.True(acked.Count > 0, "no write was acknowledged before the kill\n" + keeper.Diagnostics());
            keeper.Kill();
            foreach (var w in writers)
            {
                // WaitForExit(timeout) can return before the last "ack" lines reach the handler; the parameterless
                // one, once the process has exited, waits for them, so every acknowledgement is checked.
                if (w.WaitForExit(30_000)) w.WaitForExit();
                else w.Kill(entireProcessTree: true);
                w.Dispose();
            }

            await keeper.StartAgainAsync();
            var check = await ToolRunner.RunAsync(ToolRunner.Python, [Path.Combine(dir, "check.py"), keeper.ConnectString]);
            Assert.True(check.Succeeded, check.ToString());
            var present = check.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);
            foreach (var name in acked.Keys)
            {
                Assert.True(present.TryGetValue(name, out var data), $"acknowledged /kill/{name} is missing after kill -9 (round {round})");
                Assert.Equal(name[1..], data);
            }
        }
    }

    private static Process StartWriter(string dir, string server, string id, ConcurrentDictionary<string, bool> acked)
    {
        var start = new ProcessStartInfo(ToolRunner.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(dir, "writer.py"), server, id }) start.ArgumentList.Add(a);
        var p = Process.Start(start) ?? throw new InvalidOperationException("could not start python3: apt-get install python3-kazoo");
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && line.StartsWith("ack ", StringComparison.Ordinal)) acked[$"w{id}-{line[4..]}"] = true;
        };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private const string SessionScript = """
        import sys, json
        from kazoo.client import KazooClient
        if sys.argv[2] == 'create':
            zk = KazooClient(hosts=sys.argv[1], timeout=30); zk.start(timeout=15)
            zk.create('/held', b'mine', ephemeral=True)
            sid, pw = zk.client_id
            print(json.dumps([sid, pw.hex()]), flush=True)
            # Leave without closing the session: the process is killed, like a client whose host died.
            import os; os._exit(0)
        else:
            sid, pw = json.loads(sys.argv[3])
            zk = KazooClient(hosts=sys.argv[1], timeout=30, client_id=(sid, bytes.fromhex(pw))); zk.start(timeout=15)
            data, stat = zk.get('/held')
            print(zk.client_id[0] == sid, data.decode(), stat.ephemeralOwner == sid)
            zk.stop()
        """;

    [Fact]
    public async Task SessionAndEphemeralSurviveKillNineAndCanBeResumed()
    {
        await using var keeper = await KeeperProcess.StartAsync();
        var script = Path.Combine(keeper.Directory, "session.py");
        File.WriteAllText(script, SessionScript);
        var created = await ToolRunner.RunAsync(ToolRunner.Python, [script, keeper.ConnectString, "create"]);
        Assert.True(created.Succeeded, created.ToString());
        var clientId = created.StdOut.Trim();

        keeper.Kill();
        await keeper.StartAgainAsync();

        var resumed = await ToolRunner.RunAsync(ToolRunner.Python, [script, keeper.ConnectString, "resume", clientId]);
        Assert.True(resumed.Succeeded, resumed.ToString());
        Assert.Equal("True mine True", resumed.StdOut.Trim());
    }
}
