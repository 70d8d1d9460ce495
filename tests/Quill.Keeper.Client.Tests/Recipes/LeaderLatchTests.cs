using Quill.Keeper.Client.Recipes;
using Quill.Keeper.Client.Tests.Fixtures;

namespace Quill.Keeper.Client.Tests.Recipes;

public abstract class LeaderLatchTests(KeeperServerFixture server) : ClientTestBase(server)
{
    [Fact]
    public async Task One_leader_at_a_time_and_succession_in_order()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync()));
        var latches = clients.Select((c, i) => new LeaderLatch(c, P("election"), $"node-{i}")).ToArray();
        foreach (var latch in latches) await latch.StartAsync();

        Assert.Equal(["node-0", "node-1", "node-2"], await latches[0].GetParticipantsAsync());
        await Soon(latches[0].AwaitLeadershipAsync());
        Assert.Equal([true, false, false], latches.Select(l => l.HasLeadership));

        var changes = new List<bool>();
        latches[1].LeadershipChanged += (_, leader) => { lock (changes) changes.Add(leader); };
        await latches[0].CloseAsync();
        await Soon(latches[1].AwaitLeadershipAsync());
        Assert.Equal([false, true, false], latches.Select(l => l.HasLeadership));
        lock (changes) Assert.Equal([true], changes);

        // The leader's process dies: its session closes and leadership passes on.
        await clients[1].CloseAsync();
        await Soon(latches[2].AwaitLeadershipAsync());
        Assert.False(latches[1].HasLeadership);
        Assert.Equal(["node-2"], await latches[2].GetParticipantsAsync());
    }

    [Fact]
    public async Task Middle_participant_leaving_does_not_disturb_the_leader()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync()));
        var latches = clients.Select((c, i) => new LeaderLatch(c, P("election"), $"n{i}")).ToArray();
        foreach (var latch in latches) await latch.StartAsync();
        var leaderChanges = 0;
        latches[0].LeadershipChanged += (_, _) => Interlocked.Increment(ref leaderChanges);

        await latches[1].CloseAsync();
        // n2 now watches n0 (the server says so once n2 has reacted); n0 is still leader, n2 is not.
        await UntilWatchingAsync(clients[2], latches[0].NodePath!);
        Assert.Equal(0, leaderChanges);
        Assert.True(latches[0].HasLeadership);
        Assert.False(latches[2].HasLeadership);
        await latches[0].CloseAsync();
        await Soon(latches[2].AwaitLeadershipAsync());
        Assert.Equal(1, leaderChanges);
    }

    [Fact]
    public async Task Leadership_is_dropped_while_disconnected_and_regained_after()
    {
        await using var proxy = new TcpProxy(Server.Port);
        var client = await ConnectAsync(connectString: proxy.ConnectString);
        var latch = new LeaderLatch(client, P("election"), "solo");
        await latch.StartAsync();
        Assert.True(latch.HasLeadership);

        var lost = new TaskCompletionSource();
        latch.LeadershipChanged += (_, leader) => { if (!leader) lost.TrySetResult(); };
        proxy.Refusing = true;
        proxy.DropAll();
        await Soon(lost.Task);
        Assert.False(latch.HasLeadership);
        proxy.Refusing = false;
        await Soon(latch.AwaitLeadershipAsync());
    }
}

public sealed class LeaderLatchTestsOnApacheZooKeeper(ApacheZooKeeperFixture server)
    : LeaderLatchTests(server), IClassFixture<ApacheZooKeeperFixture>;

public sealed class LeaderLatchTestsOnKeeper(QuillKeeperFixture server)
    : LeaderLatchTests(server), IClassFixture<QuillKeeperFixture>;
