using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

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

    // Each deadline below is at an odd millisecond on purpose: a coordinator that checks deadlines on a periodic
    // tick instead of at each deadline gets these wrong.

    [Fact]
    public async Task A_member_is_gone_exactly_when_its_session_timeout_passes_and_DeleteGroups_then_succeeds()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a");
        h.Advance(1_237);
        Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, members["a"]));
        h.Advance(GroupRequests.SessionTimeoutMs - 1);
        Assert.Equal(("Stable", 1), await StateAndSize(h, "g"));
        Assert.Equal(KafkaError.NonEmptyGroup, await DeleteGroup(h, "g"));
        h.Advance(1);
        Assert.Equal(("Empty", 0), await StateAndSize(h, "g"));
        Assert.Equal(KafkaError.None, await DeleteGroup(h, "g"));
    }

    [Fact]
    public async Task A_silent_member_holds_up_a_JoinGroup_until_exactly_its_session_deadline()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b");
        h.Advance(3_001);
        Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, members["a"]));
        h.Advance(GroupRequests.SessionTimeoutMs - 3_001 - 1); // b's last sign of life was the sync
        Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, members["a"]));
        Assert.Equal(("Stable", 2), await StateAndSize(h, "g"));
        h.Advance(1);
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["a"]));
        // b is gone already, so the next JoinGroup does not wait for it.
        var join = await h.JoinGroup("g", members["a"], clientId: "a").Within();
        Assert.Equal(2, join.GetInt32("GenerationId"));
        Assert.Equal(members["a"], Assert.Single(join.GetArray("Members")!).GetString("MemberId"));
    }

    [Fact]
    public async Task The_initial_delay_ends_exactly_on_time()
    {
        using var h = NewHarness();
        h.Advance(17);
        var a = await h.JoinNew("g", "a");
        h.Advance(h.Options.InitialRebalanceDelayMs - 1);
        Assert.Equal(("PreparingRebalance", 1), await StateAndSize(h, "g"));
        h.Advance(1);
        Assert.Equal(("CompletingRebalance", 1), await StateAndSize(h, "g"));
        Assert.Equal(1, (await a.Join.Within()).GetInt32("GenerationId"));
    }

    [Fact]
    public async Task A_join_round_ends_exactly_at_the_rebalance_timeout_without_the_member_that_did_not_rejoin()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a", "b");
        h.Advance(311);
        // The leader rejoining starts a round; b keeps its session alive but never rejoins.
        var rejoin = h.JoinGroup("g", members["a"], clientId: "a");
        for (int i = 0; i < 5; i++)
        {
            h.Advance(5_000);
            Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("g", 1, members["b"]));
        }
        h.Advance(GroupRequests.RebalanceTimeoutMs - 25_000 - 1);
        Assert.Equal(("PreparingRebalance", 2), await StateAndSize(h, "g"));
        h.Advance(1);
        Assert.Equal(("CompletingRebalance", 1), await StateAndSize(h, "g"));
        var join = await rejoin.Within();
        Assert.Equal(2, join.GetInt32("GenerationId"));
        Assert.Equal(members["a"], Assert.Single(join.GetArray("Members")!).GetString("MemberId"));
    }

    [Fact]
    public async Task A_member_told_member_id_required_stops_counting_exactly_at_its_session_timeout()
    {
        using var h = NewHarness();
        var (members, _) = await h.FormGroup("g", "a");
        h.Advance(53);
        var ghost = await h.JoinGroup("g", "", clientId: "ghost");
        Assert.Equal(KafkaError.MemberIdRequired, Errors.Of(ghost));
        var a = h.JoinGroup("g", members["a"], clientId: "a");
        h.Advance(GroupRequests.SessionTimeoutMs - 1);
        Assert.Equal("PreparingRebalance", (await StateAndSize(h, "g")).State);
        h.Advance(1);
        Assert.Equal(("CompletingRebalance", 1), await StateAndSize(h, "g"));
        Assert.Equal(2, (await a.Within()).GetInt32("GenerationId"));
    }

    private static async Task<(string State, int Members)> StateAndSize(GroupHarness h, string group)
    {
        var described = Assert.Single((await h.DescribeGroups(5, group)).GetArray("Groups")!);
        return (described.GetString("GroupState")!, described.GetArray("Members")!.Count);
    }

    private static async Task<KafkaError> DeleteGroup(GroupHarness h, string group)
    {
        var response = await h.Send(ApiKey.DeleteGroups, 2, b => b.SetStringArray("GroupsNames", [group]));
        return Errors.Of(Assert.Single(response.GetArray("Results")!));
    }
}
