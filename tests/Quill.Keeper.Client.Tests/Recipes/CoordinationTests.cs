using System.Collections.Concurrent;
using Quill.Keeper.Client.Recipes;
using Quill.Keeper.Client.Tests.Fixtures;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Tests.Recipes;

/// <summary>Group membership, barriers and the queue, each driven by several clients at once.</summary>
public abstract class CoordinationTests(KeeperServerFixture server) : ClientTestBase(server)
{
    [Fact]
    public async Task Group_members_see_each_other_join_and_leave()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync()));
        var members = clients.Select((c, i) => new GroupMember(c, P("group"), $"m{i}", Bytes($"data{i}"))).ToArray();
        foreach (var member in members) await member.JoinAsync();

        var observer = members[0];
        await Soon(WaitForAsync(() => observer.Members.Count == 3));
        Assert.Equal("data2", Text(observer.Members["m2"]));

        await clients[2].CloseAsync(); // a crashed member leaves with its session
        await Soon(WaitForAsync(() => observer.Members.Count == 2 && !observer.Members.ContainsKey("m2")));
        await members[1].LeaveAsync();
        await Soon(WaitForAsync(() => observer.Members.Count == 1));
        Assert.Equal(["m0"], (await observer.GetMembersAsync()).Keys);
    }

    [Fact]
    public async Task Group_member_id_cannot_be_taken_twice()
    {
        var other = await ConnectAsync();
        await new GroupMember(Client, P("group"), "same").JoinAsync();
        await ThrowsKeeper(ErrorCode.NodeExists, () => new GroupMember(other, P("group"), "same").JoinAsync());
    }

    [Fact]
    public async Task Barrier_holds_every_waiter_until_removed()
    {
        var barrier = new DistributedBarrier(Client, P("barrier"));
        await barrier.SetBarrierAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync()));
        var waiters = clients.Select(c => new DistributedBarrier(c, P("barrier")).WaitOnBarrierAsync()).ToArray();
        foreach (var c in clients) await UntilWatchingAsync(c, P("barrier"));
        Assert.All(waiters, w => Assert.False(w.IsCompleted));
        await barrier.RemoveBarrierAsync();
        await Soon(Task.WhenAll(waiters));
        await Soon(new DistributedBarrier(Client, P("barrier")).WaitOnBarrierAsync()); // down: no wait
    }

    [Fact]
    public async Task Double_barrier_starts_and_finishes_members_together()
    {
        const int count = 3;
        var clients = await Task.WhenAll(Enumerable.Range(0, count).Select(_ => ConnectAsync()));
        var barriers = clients.Select(c => new DistributedDoubleBarrier(c, P("double"), count)).ToArray();

        var entering = barriers.Take(count - 1).Select(b => b.EnterAsync()).ToList();
        // Both have joined and counted (a later request of each session is answered after its count), and wait.
        var deadline = DateTime.UtcNow + Patience;
        while (((await Client.ExistsAsync(P("double")))?.NumChildren ?? 0) < count - 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the members never joined");
            await Task.Delay(20);
        }
        foreach (var c in clients.Take(count - 1)) await c.ExistsAsync(P("double"));
        Assert.All(entering, e => Assert.False(e.IsCompleted, "entered before the group was complete"));
        entering.Add(barriers[^1].EnterAsync());
        await Soon(Task.WhenAll(entering));

        var leaving = barriers.Take(count - 1).Select(b => b.LeaveAsync()).ToList();
        // Each waits on another member's node, as the server shows.
        foreach (var c in clients.Take(count - 1))
            await UntilWatchingAsync(c, path => path.StartsWith(P("double/"), StringComparison.Ordinal), "a member of the double barrier");
        Assert.All(leaving, l => Assert.False(l.IsCompleted, "left before every member was done"));
        leaving.Add(barriers[^1].LeaveAsync());
        await Soon(Task.WhenAll(leaving));
        Assert.Empty(await Client.GetChildrenAsync(P("double")));
    }

    [Fact]
    public async Task Queue_delivers_each_item_once_to_concurrent_consumers()
    {
        const int producers = 3, consumers = 3, perProducer = 20;
        var producerClients = await Task.WhenAll(Enumerable.Range(0, producers).Select(_ => ConnectAsync()));
        var consumerClients = await Task.WhenAll(Enumerable.Range(0, consumers).Select(_ => ConnectAsync()));
        var received = new ConcurrentBag<string>();
        using var done = new CancellationTokenSource();

        var consuming = consumerClients.Select(c => Task.Run(async () =>
        {
            var queue = new DistributedQueue(c, P("queue"));
            try
            {
                while (true) received.Add(Text(await queue.DequeueAsync(done.Token)));
            }
            catch (OperationCanceledException)
            {
                // The test has all it needs.
            }
        })).ToArray();
        await Task.WhenAll(producerClients.Select((c, p) => Task.Run(async () =>
        {
            var queue = new DistributedQueue(c, P("queue"));
            for (int i = 0; i < perProducer; i++) await queue.EnqueueAsync(Bytes($"{p}-{i}"));
        })));

        await Soon(WaitForAsync(() => received.Count >= producers * perProducer));
        // Every consumer is idle, its child watch on the queue set (ZooKeeper's wchc lists data watches only, so the
        // client's own count says it): none is still taking an item a second time.
        await Soon(WaitForAsync(() => consumerClients.All(c => c.WatchCount == 1)));
        done.Cancel();
        await Task.WhenAll(consuming);
        Assert.Equal(producers * perProducer, received.Count);
        Assert.Equal(producers * perProducer, received.Distinct().Count());
        Assert.Equal(0, await new DistributedQueue(Client, P("queue")).CountAsync());
    }

    [Fact]
    public async Task Queue_is_first_in_first_out()
    {
        var queue = new DistributedQueue(Client, P("fifo"));
        Assert.Null(await queue.TryDequeueAsync());
        for (int i = 0; i < 5; i++) await queue.EnqueueAsync(Bytes(i.ToString()));
        Assert.Equal(5, await queue.CountAsync());
        for (int i = 0; i < 5; i++) Assert.Equal(i.ToString(), Text((await queue.TryDequeueAsync())!));
        var waiting = queue.DequeueAsync();
        await Soon(WaitForAsync(() => Client.WatchCount == 1)); // its child watch is set: it waits for the queue to change
        Assert.False(waiting.IsCompleted);
        await new DistributedQueue(await ConnectAsync(), P("fifo")).EnqueueAsync(Bytes("late"));
        Assert.Equal("late", Text(await Soon(waiting)));
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        while (!condition()) await Task.Delay(20);
        return true;
    }
}

public sealed class CoordinationTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : CoordinationTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class CoordinationTestsOnKeeper(QuillKeeperFixture server)
    : CoordinationTests(server), IClassFixture<QuillKeeperFixture>;
