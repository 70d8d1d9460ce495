using Quill.Keeper.Client.Recipes;
using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests.Recipes;

public abstract class LockTests(KeeperServerFixture server) : ClientTestBase(server)
{
    private string LockPath => P("lock");

    [Fact]
    public async Task Five_contenders_never_lose_an_update()
    {
        const int contenders = 5, increments = 10;
        string counter = P("counter");
        await Client.CreateAsync(counter, Bytes("0"));
        var clients = await Task.WhenAll(Enumerable.Range(0, contenders).Select(_ => ConnectAsync()));

        await Task.WhenAll(clients.Select(async client =>
        {
            var mutex = new DistributedLock(client, LockPath);
            for (int i = 0; i < increments; i++)
            {
                await using (await mutex.AcquireAsync())
                {
                    // Read-modify-write without a version check: only the lock keeps updates from being lost.
                    int value = int.Parse(Text((await client.GetDataAsync(counter)).Data));
                    await Task.Yield();
                    await client.SetDataAsync(counter, Bytes((value + 1).ToString()));
                }
            }
        })).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal((contenders * increments).ToString(), Text((await Client.GetDataAsync(counter)).Data));
        Assert.Empty(await Client.GetChildrenAsync(LockPath));
    }

    [Fact]
    public async Task Each_waiter_watches_only_its_predecessor()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => ConnectAsync()));
        var locks = clients.Select(c => new DistributedLock(c, LockPath)).ToArray();
        var holder = await locks[0].AcquireAsync();
        var waiting = new List<Task<IAsyncDisposable>>();
        for (int i = 1; i < locks.Length; i++)
        {
            waiting.Add(locks[i].AcquireAsync());
            await Soon(WaitForAsync(async () => (await locks[0].GetParticipantNodesAsync()).Count == i + 1));
        }
        var order = await locks[0].GetParticipantNodesAsync();
        Assert.Equal(locks.Select(l => l.NodePath), order);

        // Wait until every waiter has set its watch, then ask the server what each session watches.
        await Soon(WaitForAsync(() => Task.FromResult(clients.Skip(1).All(c => c.WatchCount == 1))));
        var watches = await Server.WatchesBySessionAsync();
        Assert.False(watches.ContainsKey(clients[0].SessionId), "the holder watches nothing");
        for (int i = 1; i < clients.Length; i++)
        {
            Assert.Equal([order[i - 1]], watches[clients[i].SessionId]);
            await clients[i].CheckWatchesAsync(order[i - 1], WatcherType.Data);
        }

        // Releasing wakes exactly the next in line.
        await holder.DisposeAsync();
        var next = await Soon(waiting[0]);
        // The others' watches did not fire: the server still lists each on its predecessor (a fired watch is gone).
        var after = await Server.WatchesBySessionAsync();
        for (int i = 2; i < clients.Length; i++) Assert.Equal([order[i - 1]], after[clients[i].SessionId]);
        Assert.All(waiting.Skip(1), w => Assert.False(w.IsCompleted));
        Assert.True(locks[1].IsHeld);
        await next.DisposeAsync();
        for (int i = 1; i < waiting.Count; i++) await (await Soon(waiting[i])).DisposeAsync();
    }

    [Fact]
    public async Task Try_acquire_times_out_and_leaves_no_node()
    {
        var other = await ConnectAsync();
        await using var held = await new DistributedLock(Client, LockPath).AcquireAsync();
        var contender = new DistributedLock(other, LockPath);
        Assert.False(await contender.TryAcquireAsync(TimeSpan.FromMilliseconds(300)));
        Assert.False(contender.IsHeld);
        Assert.Single(await Client.GetChildrenAsync(LockPath));
    }

    [Fact]
    public async Task Holder_whose_session_ends_releases_the_lock()
    {
        var holderClient = await ConnectAsync();
        var waiterClient = await ConnectAsync();
        await new DistributedLock(holderClient, LockPath).AcquireAsync();
        var waiter = new DistributedLock(waiterClient, LockPath);
        var acquiring = waiter.AcquireAsync();
        await UntilWatchingAsync(waiterClient, path => path.StartsWith(LockPath + "/", StringComparison.Ordinal), "the holder's node");
        Assert.False(acquiring.IsCompleted);
        await holderClient.CloseAsync(); // as if the process died and its session ended
        await using var acquired = await Soon(acquiring);
        Assert.True(waiter.IsHeld);
    }

    [Fact]
    public async Task Cancelled_waiter_withdraws()
    {
        var other = await ConnectAsync();
        var first = new DistributedLock(Client, LockPath);
        await using var held = await first.AcquireAsync();
        using var cancel = new CancellationTokenSource();
        var waiting = new DistributedLock(other, LockPath).AcquireAsync(cancel.Token);
        await Soon(WaitForAsync(async () => (await first.GetParticipantNodesAsync()).Count == 2));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal([first.NodePath!], await first.GetParticipantNodesAsync());
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition)
    {
        while (!await condition()) await Task.Delay(20);
        return true;
    }
}

public sealed class LockTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : LockTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class LockTestsOnKeeper(QuillKeeperFixture server)
    : LockTests(server), IClassFixture<QuillKeeperFixture>;
