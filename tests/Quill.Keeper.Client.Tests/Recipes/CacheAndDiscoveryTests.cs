using Quill.Keeper.Client.Recipes;
using Quill.Keeper.Client.Tests.Fixtures;

namespace Quill.Keeper.Client.Tests.Recipes;

/// <summary>NodeCache (a config watcher) and service registration/discovery.</summary>
public abstract class CacheAndDiscoveryTests(KeeperServerFixture server) : ClientTestBase(server)
{
    [Fact]
    public async Task Node_cache_follows_creation_changes_and_deletion()
    {
        var watcher = await ConnectAsync();
        await using var cache = new NodeCache(watcher, P("config"));
        var seen = new List<string?>();
        cache.Changed += (_, value) => { lock (seen) seen.Add(value is null ? null : Text(value.Data)); };
        await cache.StartAsync();
        Assert.Null(cache.Current);

        await Client.CreateAsync(P("config"), Bytes("v1"));
        await Soon(cache.WaitForAsync(v => v is not null && Text(v.Data) == "v1"));
        await Client.SetDataAsync(P("config"), Bytes("v2"));
        await Soon(cache.WaitForAsync(v => v is not null && Text(v.Data) == "v2"));
        Assert.Equal(1, cache.Current!.Stat.Version);
        await Client.DeleteAsync(P("config"));
        await Soon(cache.WaitForAsync(v => v is null));
        lock (seen) Assert.Equal([null, "v1", "v2", null], seen);
    }

    [Fact]
    public async Task Node_cache_catches_up_with_changes_made_while_disconnected()
    {
        await using var proxy = new TcpProxy(Server.Port);
        var watcher = await ConnectAsync(connectString: proxy.ConnectString);
        await Client.CreateAsync(P("config"), Bytes("before"));
        await using var cache = new NodeCache(watcher, P("config"));
        await cache.StartAsync();
        Assert.Equal("before", Text(cache.Current!.Data));

        proxy.Refusing = true;
        proxy.DropAll();
        await Soon(watcher.WaitForStateAsync(SessionState.Disconnected));
        await Client.SetDataAsync(P("config"), Bytes("while away"));
        proxy.Refusing = false;
        await Soon(cache.WaitForAsync(v => v is not null && Text(v.Data) == "while away"));
    }

    [Fact]
    public async Task Services_register_are_discovered_and_vanish_with_their_session()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync()));
        for (int i = 0; i < clients.Length; i++)
        {
            await new ServiceRegistry(clients[i], P("services")).RegisterAsync(
                new ServiceInstance("orders", $"i{i}", "127.0.0.1", 9000 + i, new Dictionary<string, string> { ["zone"] = "a" }));
        }
        await new ServiceRegistry(clients[0], P("services")).RegisterAsync(new ServiceInstance("billing", "b0", "127.0.0.1", 9100));

        var discovery = new ServiceRegistry(Client, P("services"));
        Assert.Equal(["billing", "orders"], await discovery.GetServiceNamesAsync());
        var orders = await discovery.GetInstancesAsync("orders");
        Assert.Equal(["i0", "i1", "i2"], orders.Select(o => o.Id));
        Assert.Equal(9001, orders[1].Port);
        Assert.Equal("a", orders[1].Metadata!["zone"]);
        Assert.True(orders[0].RegisteredAt > 0);

        using var stop = new CancellationTokenSource(Patience);
        var updates = discovery.WatchInstancesAsync("orders", stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await updates.MoveNextAsync());
        Assert.Equal(3, updates.Current.Count);
        await clients[1].CloseAsync();
        Assert.True(await updates.MoveNextAsync());
        Assert.Equal(["i0", "i2"], updates.Current.Select(o => o.Id));
        await new ServiceRegistry(clients[2], P("services")).UnregisterAsync("orders", "i2");
        Assert.True(await updates.MoveNextAsync());
        Assert.Equal(["i0"], updates.Current.Select(o => o.Id));
        await updates.DisposeAsync();
    }

    [Fact]
    public async Task Registering_again_updates_the_instance()
    {
        var registry = new ServiceRegistry(Client, P("services"));
        await registry.RegisterAsync(new ServiceInstance("api", "x", "127.0.0.1", 1));
        await registry.RegisterAsync(new ServiceInstance("api", "x", "127.0.0.1", 2));
        Assert.Equal(2, Assert.Single(await registry.GetInstancesAsync("api")).Port);
    }
}

public sealed class CacheAndDiscoveryTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : CacheAndDiscoveryTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class CacheAndDiscoveryTestsOnKeeper(QuillKeeperFixture server)
    : CacheAndDiscoveryTests(server), IClassFixture<QuillKeeperFixture>;
