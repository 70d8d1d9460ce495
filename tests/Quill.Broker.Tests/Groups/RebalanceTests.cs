using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

public class RebalanceTests
{
    private static GroupHarness NewHarness() => new(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });

    [Fact]
    public async Task A_new_member_triggers_a_rebalance_that_completes_when_everyone_has_rejoined()
    {
        using var h = NewHarness();
        var (members, generation) = await h.FormGroup("g", "a", "b");
        Assert.Equal(1, generation);

        var d = await h.JoinNew("g", "d");
        // The others learn of the rebalance from their heartbeats; it does not complete without them.
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["a"]));
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["b"]));
        var a = h.JoinGroup("g", members["a"], clientId: "a");
        await Task.Delay(50);
        Assert.False(d.Join.IsCompleted);
        var b = h.JoinGroup("g", members["b"], clientId: "b");

        var joins = await Task.WhenAll(a, b, d.Join).Within();
        Assert.All(joins, j => Assert.Equal(KafkaError.None, Errors.Of(j)));
        Assert.All(joins, j => Assert.Equal(2, j.GetInt32("GenerationId")));
        Assert.Equal(members["a"], joins[0].GetString("Leader"));
        Assert.Equal(3, joins[0].GetArray("Members")!.Count);

        members["d"] = d.MemberId;
        await h.SyncAround("g", 2, members["a"], members);
        // An old generation is refused.
        Assert.Equal(KafkaError.IllegalGeneration, await h.Heartbeat("g", 1, members["b"]));
        Assert.Equal(KafkaError.None, await h.Heartbeat("g", 2, members["d"]));
    }

    [Fact]
    public async Task A_leaving_member_triggers_a_rebalance_among_the_rest()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b", "c");

        var leave = await h.LeaveGroup("g", 5, (members["b"], null));
        Assert.Equal(KafkaError.None, Errors.Of(leave));
        Assert.Equal(KafkaError.None, (KafkaError)Assert.Single(leave.GetArray("Members")!).GetInt16("ErrorCode"));
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("g", 1, members["b"]));
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["a"]));

        var joins = await Task.WhenAll(h.JoinGroup("g", members["a"], clientId: "a"), h.JoinGroup("g", members["c"], clientId: "c")).Within();
        Assert.All(joins, j => Assert.Equal(2, j.GetInt32("GenerationId")));
        Assert.Equal(["range:a", "range:c"], joins[0].GetArray("Members")!.Select(m => Text(m.GetBytes("Metadata"))).Order());
    }

    [Fact]
    public async Task When_the_leader_leaves_another_member_leads()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b");
        Assert.Equal(KafkaError.None, Errors.Of(await h.LeaveGroup("g", 0, (members["a"], null))));
        var join = await h.JoinGroup("g", members["b"], clientId: "b").Within();
        Assert.Equal(members["b"], join.GetString("Leader"));
        Assert.Single(join.GetArray("Members")!);
    }

    [Fact]
    public async Task A_member_that_does_not_rejoin_within_the_rebalance_timeout_is_dropped()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b");
        var c = await h.JoinNew("g", "c");
        var a = h.JoinGroup("g", members["a"], clientId: "a");
        // b keeps heartbeating (so its session is alive) but never rejoins. The round lasts the group's longest
        // rebalance timeout (30 s).
        for (int i = 0; i < 5; i++)
        {
            h.Advance(5_000);
            Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["b"]));
        }
        h.Advance(4_000);
        await Task.Delay(50);
        Assert.False(a.IsCompleted);
        h.Advance(1_100); // deadlines are checked every 100 ms tick
        var joins = await Task.WhenAll(a, c.Join).Within();
        Assert.All(joins, j => Assert.Equal(2, j.GetInt32("GenerationId")));
        Assert.Equal(2, joins[0].GetArray("Members")!.Count);
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("g", 2, members["b"]));
    }

    [Fact]
    public async Task The_leader_rejoining_a_stable_group_starts_a_new_generation_as_cooperative_assignors_need()
    {
        using var h = NewHarness();
        var (members, generation) = await h.FormGroup("g", "a", "b");
        // Cooperative-sticky: after a rebalance that revoked partitions, members rejoin at once for a second round.
        for (int round = 1; round <= 3; round++)
        {
            var a = h.JoinGroup("g", members["a"], clientId: "a");
            Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", generation, members["b"]));
            var b = h.JoinGroup("g", members["b"], clientId: "b");
            var joins = await Task.WhenAll(a, b).Within();
            Assert.All(joins, j => Assert.Equal(generation + 1, j.GetInt32("GenerationId")));
            generation++;
            await h.SyncAround("g", generation, members["a"], members);
        }
        Assert.Equal(4, generation);
    }

    [Fact]
    public async Task A_follower_rejoining_unchanged_gets_the_current_generation_but_a_changed_one_rebalances()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b");
        var same = await h.JoinGroup("g", members["b"], clientId: "b").Within();
        Assert.Equal(1, same.GetInt32("GenerationId"));
        Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, members["a"]));

        var changed = h.JoinGroup("g", members["b"], clientId: "b", protocols: [("range", Bytes("new subscription"))]);
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["a"]));
        var a = await h.JoinGroup("g", members["a"], clientId: "a").Within();
        Assert.Equal(2, (await changed.Within()).GetInt32("GenerationId"));
        Assert.Contains(a.GetArray("Members")!, m => Text(m.GetBytes("Metadata")) == "new subscription");
    }

    [Fact]
    public async Task A_rebalance_during_the_sync_round_tells_waiting_members_to_rejoin()
    {
        using var h = NewHarness();
        var a = await h.JoinNew("g", "a");
        var b = await h.JoinNew("g", "b");
        h.Advance(2001);
        await Task.WhenAll(a.Join, b.Join).Within();
        var followerSync = h.SyncGroup("g", 1, b.MemberId);
        // A commit before the assignment is handed out is refused.
        var commit = await h.CommitOffsets("g", 1, b.MemberId, offsets: ("t", 0, 1));
        Assert.Equal(KafkaError.RebalanceInProgress, CommitErrors(commit).Single().Error);

        var c = await h.JoinNew("g", "c");
        Assert.Equal(KafkaError.RebalanceInProgress, Errors.Of(await followerSync.Within()));
        var sync = await h.SyncGroup("g", 1, a.MemberId, assignments: (a.MemberId, Bytes("x"))).Within();
        Assert.Equal(KafkaError.RebalanceInProgress, Errors.Of(sync));
        Assert.False(c.Join.IsCompleted);
    }

    [Fact]
    public async Task Leave_group_v3_batches_members_with_an_error_each()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b");
        var leave = await h.LeaveGroup("g", 3, (members["a"], null), ("nobody", null), (members["b"], null));
        Assert.Equal(KafkaError.None, Errors.Of(leave));
        Assert.Equal([KafkaError.None, KafkaError.UnknownMemberId, KafkaError.None],
            leave.GetArray("Members")!.Select(m => (KafkaError)m.GetInt16("ErrorCode")));
        // Everyone left: the group rebalances to Empty.
        var group = Assert.Single((await h.DescribeGroups(5, "g")).GetArray("Groups")!);
        Assert.Equal("Empty", group.GetString("GroupState"));
        // v0-2 carry the member's error at the top.
        Assert.Equal(KafkaError.UnknownMemberId, Errors.Of(await h.LeaveGroup("g", 1, ("nobody", null))));
        Assert.Equal(KafkaError.UnknownMemberId, Errors.Of(await h.LeaveGroup("no-such-group", 2, ("nobody", null))));
    }
}
