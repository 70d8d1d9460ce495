using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// wchs, wchc and wchp against Apache ZooKeeper 3.8 and Keeper, with the same watches set by kazoo: ZooKeeper lists
/// data watches only there (a child watch shows in mntr's zk_watch_count alone), so Keeper must too.
/// </summary>
public sealed class WatchWordsTests
{
    /// <summary>
    /// One session: a child watch on /c, a data watch on /d; prints each word's answer with the session id replaced,
    /// and mntr's watch count.
    /// </summary>
    private const string Script = """
        import socket, sys
        from kazoo.client import KazooClient
        host, port = sys.argv[1].split(':')
        def word(w):
            s = socket.create_connection((host, int(port))); s.sendall(w.encode()); out = b''
            while True:
                b = s.recv(65536)
                if not b: break
                out += b
            s.close()
            return out.decode()
        zk = KazooClient(hosts=sys.argv[1]); zk.start(timeout=30)
        zk.create('/c', b''); zk.create('/d', b'')
        zk.get_children('/c', watch=lambda e: None)
        zk.get('/d', watch=lambda e: None)
        sid = '0x%x' % zk.client_id[0]
        for w in ['wchs', 'wchc', 'wchp']:
            sys.stdout.write('== %s\n%s' % (w, word(w).replace(sid, 'SID')))
        sys.stdout.write('== %s\n' % [l for l in word('mntr').splitlines() if l.startswith('zk_watch_count')])
        zk.stop()
        """;

    [Fact]
    public async Task watch_words_list_data_watches_only_exactly_as_apache_zookeeper_does()
    {
        await using var zookeeper = await ApacheZooKeeperServer.StartAsync();
        await using var keeper = await KeeperProcess.StartAsync();

        var expected = await ToolRunner.RunKazooAsync(Script, zookeeper.ConnectString);
        Assert.True(expected.Succeeded, expected.ToString());
        var actual = await ToolRunner.RunKazooAsync(Script, keeper.ConnectString);
        Assert.True(actual.Succeeded, actual + keeper.Diagnostics());

        Assert.Contains("\tSID\n", expected.StdOut); // the data watch is there, under the session
        Assert.DoesNotContain("/c", expected.StdOut); // the child watch is not
        Assert.Contains("zk_watch_count\\t2", expected.StdOut);
        Assert.Equal(expected.StdOut, actual.StdOut);
    }
}
