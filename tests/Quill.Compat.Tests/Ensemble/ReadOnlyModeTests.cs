using Quill.Testing;

namespace Quill.Compat.Tests.Ensemble;

/// <summary>
/// readonlymode.enabled: a member cut off from its quorum serves reads to clients that accept read-only sessions
/// (kazoo's read_only=True), refuses their writes with NOT_READONLY, turns away clients that did not offer to read
/// only, and serves read-write again once a quorum forms.
/// </summary>
public sealed class ReadOnlyModeTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task a_member_without_a_quorum_serves_reads_to_read_only_clients_refuses_writes_and_rejoins_read_write()
    {
        await using var ensemble = await KeeperEnsemble.StartAsync(3, extraConfig: new Dictionary<string, string> { ["readonlymode.enabled"] = "true" });
        var survivor = ensemble[1];
        var write = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
            zk.create('/ro/data', b'before', makepath=True)
            zk.stop()
            """, ensemble.ConnectString);
        Assert.True(write.Succeeded, write + "\n" + ensemble.Diagnostics());

        // Both others die: the survivor looks for a leader in vain and, after ZooKeeper's wait, serves read-only.
        ensemble[2].Kill();
        ensemble[3].Kill();
        await WaitForAsync(async () => await survivor.FourLetterWordAsync("isro") == "ro", "the survivor to say isro=ro", ensemble);
        Assert.Contains("Mode: read-only", await survivor.FourLetterWordAsync("srvr"));
        Assert.Contains("zk_server_state\tread-only", await survivor.FourLetterWordAsync("mntr"));

        var readOnly = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            from kazoo.exceptions import NotReadOnlyCallError
            from kazoo.handlers.threading import KazooTimeoutError
            zk = KazooClient(hosts=sys.argv[1], read_only=True); zk.start(timeout=30)
            print('state', zk.client_state)
            print('read', zk.get('/ro/data')[0].decode())
            print('children', ','.join(sorted(zk.get_children('/ro'))))
            for name, op in [('create', lambda: zk.create('/ro/new', b'x')), ('set', lambda: zk.set('/ro/data', b'y')),
                             ('delete', lambda: zk.delete('/ro/data'))]:
                try:
                    op(); print(name, 'accepted')
                except NotReadOnlyCallError:
                    print(name, 'NotReadOnlyCallError')
            print('still', zk.get('/ro/data')[0].decode())
            zk.stop(); zk.close()
            plain = KazooClient(hosts=sys.argv[1])
            try:
                plain.start(timeout=5); print('plain client connected')
            except KazooTimeoutError:
                print('plain client turned away')
            plain.stop(); plain.close()
            """, survivor.ConnectString);
        Assert.True(readOnly.Succeeded, readOnly + "\n" + ensemble.Diagnostics());
        var lines = readOnly.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["state CONNECTED_RO", "read before", "children data", "create NotReadOnlyCallError", "set NotReadOnlyCallError",
            "delete NotReadOnlyCallError", "still before", "plain client turned away"], lines);

        // The others return: a quorum forms, the survivor serves read-write again and takes writes.
        ensemble[2].Start();
        ensemble[3].Start();
        await ensemble.WaitForRolesAsync(3, Long);
        Assert.Equal("rw", await survivor.FourLetterWordAsync("isro"));
        var after = await ToolRunner.RunKazooAsync("""
            import sys
            from kazoo.client import KazooClient
            zk = KazooClient(hosts=sys.argv[1], read_only=True); zk.start(timeout=30)
            print('state', zk.client_state)
            zk.set('/ro/data', b'after')
            print('read', zk.get('/ro/data')[0].decode())
            zk.stop()
            """, survivor.ConnectString);
        Assert.True(after.Succeeded, after + "\n" + ensemble.Diagnostics());
        Assert.Equal(["state CONNECTED", "read after"], after.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what, KeeperEnsemble ensemble)
    {
        var deadline = DateTime.UtcNow + Long;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {Long} for {what}\n{ensemble.Diagnostics()}");
            await Task.Delay(200);
        }
    }
}
