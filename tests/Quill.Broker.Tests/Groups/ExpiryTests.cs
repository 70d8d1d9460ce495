using Quill.Broker.Groups;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Tests.Groups;

public class ExpiryTests
{
    private static GroupHarness NewHarness() => new(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });

    [Fact]
    public async Task Heartbeats_keep_a_member_past_its_session_timeout()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a");
        for (int i = 0; i < 10; i++)
        {
            h.Advance(6_000);
            Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, members["a"]));
        }
    }

    [Fact]
    public async Task A_silent_member_expires_after_its_session_timeout_and_the_rest_rebalance()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b");
        h.Advance(6_000);
        Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, members["a"]));
        h.Advance(4_200); // b's last sign of life was the sync 10.2 s ago; a heartbeated 4.2 s ago
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["a"]));
        var join = await h.JoinGroup("g", members["a"], clientId: "a").Within();
        Assert.Equal(2, join.GetInt32("GenerationId"));
        Assert.Equal(members["a"], Assert.Single(join.GetArray("Members")!).GetString("MemberId"));
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("g", 1, members["b"]));
    }

    [Fact]
    public async Task When_the_last_member_expires_the_group_is_empty_in_a_new_generation()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a");
        h.Advance(10_200);
        var group = Assert.Single((await h.DescribeGroups(5, "g")).GetArray("Groups")!);
        Assert.Equal("Empty", group.GetString("GroupState"));
        Assert.Empty(group.GetArray("Members")!);
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("g", 2, members["a"]));
        // Offsets can still be committed by a consumer outside group management.
        var commit = await h.CommitOffsets("g", offsets: ("t", 0, 42));
        Assert.Equal(KafkaError.None, GroupRequests.CommitErrors(commit).Single().Error);
    }

    [Fact]
    public async Task A_member_told_member_id_required_that_never_returns_stops_holding_up_the_rebalance()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a");
        // A new member gets its id, then joins; a third gets an id and vanishes.
        var b = await h.JoinNew("g", "b");
        var ghost = await h.JoinGroup("g", "", clientId: "ghost");
        Assert.Equal(KafkaError.MemberIdRequired, Errors.Of(ghost));
        var a = h.JoinGroup("g", members["a"], clientId: "a");
        await Task.Delay(50);
        Assert.False(a.IsCompleted); // waiting for the pending member
        h.Advance(10_100); // its session timeout
        var joins = await Task.WhenAll(a, b.Join).Within();
        Assert.All(joins, j => Assert.Equal(2, j.GetInt32("GenerationId")));
        Assert.Equal(2, joins[0].GetArray("Members")!.Count);
    }

    [Fact]
    public async Task A_member_that_never_syncs_is_dropped_after_the_rebalance_timeout()
    {
        using var h = NewHarness();
        var a = await h.JoinNew("g", "a", rebalanceTimeoutMs: 20_000);
        var b = await h.JoinNew("g", "b", rebalanceTimeoutMs: 20_000);
        h.Advance(2_001);
        await Task.WhenAll(a.Join, b.Join).Within();
        var sync = await h.SyncGroup("g", 1, a.MemberId, assignments: (a.MemberId, GroupRequests.Bytes("x"))).Within();
        Assert.Equal(KafkaError.None, Errors.Of(sync));
        // b heartbeats (its session is alive) but never asks for its assignment.
        for (int i = 0; i < 4; i++)
        {
            h.Advance(4_900);
            Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, a.MemberId));
            if (i < 3) Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, b.MemberId));
        }
        h.Advance(500); // the round completed at 2 s; 20 s later the sync deadline passes
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, a.MemberId));
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("g", 1, b.MemberId));
    }
}
