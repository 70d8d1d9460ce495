using Quill.Testing;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>
/// node-zookeeper-client (npm), the client that sends no readOnly byte and pipelines its auth packet right behind
/// the ConnectRequest. Run against Apache ZooKeeper (which proves the script) and against Keeper.
/// </summary>
public abstract class NodeZooKeeperClientTests
{
    private readonly string _root = "/node-" + Guid.NewGuid().ToString("N")[..8];

    protected abstract string Server { get; }
    protected abstract string ServerDiagnostics();

    private const string Script = """
        const zookeeper = require('node-zookeeper-client');
        const [server, root] = process.argv.slice(2);
        const client = zookeeper.createClient(server, { sessionTimeout: 10000, retries: 0 });
        // Queued before connect(): the client writes it right behind the ConnectRequest, before any reply.
        client.addAuthInfo('digest', Buffer.from('node:secret'));
        const call = (fn, ...args) => new Promise((resolve, reject) =>
            fn.call(client, ...args, (err, ...res) => err ? reject(err) : resolve(res)));
        const out = (...parts) => console.log(parts.join(' '));
        client.once('connected', async () => {
            try {
                out('create', (await call(client.create, root, Buffer.from('v0'), zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.PERSISTENT))[0].slice(root.length) || '/');
                const watched = new Promise(resolve => client.getData(root, ev => resolve(ev), () => {}));
                await call(client.setData, root, Buffer.from('v1'), 0);
                const ev = await watched;
                out('event', zookeeper.Event.NODE_DATA_CHANGED === ev.getType(), ev.getPath() === root);
                const [data, stat] = await call(client.getData, root);
                out('get', data.toString(), stat.version);
                try { await call(client.setData, root, Buffer.from('x'), 0); } catch (e) { out('stale', e.getCode() === zookeeper.Exception.BAD_VERSION); }
                out('private', (await call(client.create, root + '/p', Buffer.from('p'), zookeeper.ACL.CREATOR_ALL_ACL, zookeeper.CreateMode.PERSISTENT))[0].slice(root.length));
                const [acls] = await call(client.getACL, root + '/p');
                out('acl', acls.length, acls[0].id.scheme, acls[0].id.id.split(':')[0]);
                out('eph', (await call(client.create, root + '/e', Buffer.alloc(0), zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL))[0].slice(root.length));
                const [children] = await call(client.getChildren, root);
                out('children', children.sort().join(','));
                try {
                    await new Promise((resolve, reject) => client.transaction()
                        .create(root + '/t1', Buffer.from('a'))
                        .create(root + '/missing/child', Buffer.from('b'))
                        .commit((err, results) => err ? reject({ err, results }) : resolve(results)));
                } catch (f) { out('multi failed', f.err.getCode() === zookeeper.Exception.NO_NODE, f.results.map(r => r.err).join(',')); }
                const tx = await new Promise((resolve, reject) => client.transaction()
                    .create(root + '/t2', Buffer.from('a')).setData(root, Buffer.from('v2'), -1).remove(root + '/t2', -1)
                    .commit((err, results) => err ? reject(err) : resolve(results)));
                out('multi ok', tx.length, tx.map(r => r.type).join(','));
                const [exists] = await call(client.exists, root + '/t1');
                out('t1 exists', exists !== null);
                for (const child of children) await call(client.remove, root + '/' + child, -1);
                await call(client.remove, root, -1);
                out('done');
            } catch (e) { out('error', e.toString()); process.exitCode = 1; }
            client.close();
        });
        client.connect();
        setTimeout(() => { out('timeout'); process.exit(2); }, 20000).unref();
        """;

    [Fact]
    public async Task Crud_watches_acl_and_transactions()
    {
        var lines = await RunAsync();
        Assert.Equal(
        [
            "create /", "event true true", "get v1 1", "stale true", "private /p", "acl 1 digest node", "eph /e0000000001",
            "children e0000000001,p", "multi failed true 0,-101", "multi ok 3 1,5,2", "t1 exists false", "done",
        ], lines);
    }

    private async Task<List<string>> RunAsync()
    {
        var nodeDir = NodeModules.Directory();
        var script = Path.Combine(nodeDir, $"zk-test-{Guid.NewGuid():N}.js");
        await File.WriteAllTextAsync(script, Script);
        try
        {
            var run = await ToolRunner.RunAsync("node", [script, Server, _root], workingDirectory: nodeDir);
            if (!run.Succeeded) Assert.Fail($"node-zookeeper-client script failed against {Server}:\n{run}\n{ServerDiagnostics()}");
            return run.StdOut.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        }
        finally { File.Delete(script); }
    }
}

/// <summary>tests/node, where scripts/test.sh installs the npm clients.</summary>
public static class NodeModules
{
    public static string Directory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var node = Path.Combine(dir.FullName, "tests", "node");
            if (File.Exists(Path.Combine(dir.FullName, "Quill.slnx")))
            {
                if (!System.IO.Directory.Exists(Path.Combine(node, "node_modules")))
                    throw new InvalidOperationException($"{node}/node_modules is missing: run `npm ci` in tests/node (scripts/test.sh does)");
                return node;
            }
        }
        throw new InvalidOperationException("could not find the repository root (Quill.slnx) above " + AppContext.BaseDirectory);
    }
}

public sealed class NodeZooKeeperClientAgainstKeeperTests(KeeperFixture fixture) : NodeZooKeeperClientTests, IClassFixture<KeeperFixture>
{
    protected override string Server => fixture.Keeper.ConnectString;
    protected override string ServerDiagnostics() => fixture.Keeper.Diagnostics();
}

public sealed class NodeZooKeeperClientAgainstApacheZooKeeperTests(ApacheZooKeeperServer zookeeper) : NodeZooKeeperClientTests, IClassFixture<ApacheZooKeeperServer>
{
    protected override string Server => zookeeper.ConnectString;
    protected override string ServerDiagnostics() => zookeeper.Diagnostics();
}
