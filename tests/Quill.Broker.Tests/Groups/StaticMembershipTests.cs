using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Schema;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

public class StaticMembershipTests
{
    private static GroupHarness NewHarness() => new(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });

    /// <summary>Two static members, "one" (the leader) and "two", stable in generation 1.</summary>
    private static async Task<(string One, string Two)> FormStaticGroup(GroupHarness h, short version = 5)
    {
        var one = h.JoinGroup("s", "", version, instanceId: "one", clientId: "c1");
        var two = h.JoinGroup("s", "", version, instanceId: "two", clientId: "c2");
        h.Advance(2_001);
        var joins = await Task.WhenAll(one, two).Within();
        // Static members get their id at once, never MEMBER_ID_REQUIRED.
        Assert.All(joins, j => Assert.Equal(KafkaError.None, Errors.Of(j)));
        string oneId = joins[0].GetString("MemberId")!, twoId = joins[1].GetString("MemberId")!;
        Assert.StartsWith("one-", oneId);
        Assert.Equal(oneId, joins[0].GetString("Leader"));
        Assert.Equal(["one", "two"], joins[0].GetArray("Members")!.Select(m => m.GetString("GroupInstanceId")).Order());
        await h.SyncAround("s", 1, oneId, new() { ["one"] = oneId, ["two"] = twoId });
        return (oneId, twoId);
    }

    [Fact]
    public async Task A_static_member_rejoining_keeps_its_place_without_a_rebalance_and_fences_its_old_id()
    {
        using var h = NewHarness();
        var (one, two) = await FormStaticGroup(h);

        // "two" restarts: no member id, same instance id.
        var rejoin = await h.JoinGroup("s", "", 5, instanceId: "two", clientId: "c2").Within();
        Assert.Equal(KafkaError.None, Errors.Of(rejoin));
        string newTwo = rejoin.GetString("MemberId")!;
        Assert.NotEqual(two, newTwo);
        Assert.Equal(1, rejoin.GetInt32("GenerationId"));
        Assert.Equal(one, rejoin.GetString("Leader"));

        // Its assignment is still there, the leader saw no rebalance, the old id is fenced.
        var sync = await h.SyncGroup("s", 1, newTwo, instanceId: "two").Within();
        Assert.Equal("p-two", Text(sync.GetBytes("Assignment")));
        Assert.Equal(KafkaError.None, await h.Heartbeat("s", 1, one, instanceId: "one"));
        Assert.Equal(KafkaError.FencedInstanceId, await h.Heartbeat("s", 1, two, instanceId: "two"));
        var oldCommit = await h.CommitOffsets("s", 1, two, instanceId: "two", offsets: ("t", 0, 1));
        Assert.Equal(KafkaError.FencedInstanceId, CommitErrors(oldCommit).Single().Error);
        Assert.Equal(KafkaError.FencedInstanceId, Errors.Of(await h.JoinGroup("s", two, 5, instanceId: "two", clientId: "c2")));
        var newCommit = await h.CommitOffsets("s", 1, newTwo, instanceId: "two", offsets: ("t", 0, 1));
        Assert.Equal(KafkaError.None, CommitErrors(newCommit).Single().Error);
    }

    [Fact]
    public async Task A_static_member_is_not_dropped_for_missing_a_rebalance_round_but_expires_with_its_session()
    {
        using var h = NewHarness();
        var (one, two) = await FormStaticGroup(h);
        // A dynamic member joins; "two" is silent.
        var d = await h.JoinNew("s", "d");
        var oneJoin = h.JoinGroup("s", one, 5, instanceId: "one", clientId: "c1");
        h.Advance(10_100); // "two"'s session (10 s) runs out before the rebalance timeout
        var joins = await Task.WhenAll(oneJoin, d.Join).Within();
        Assert.All(joins, j => Assert.Equal(2, j.GetInt32("GenerationId")));
        Assert.DoesNotContain(joins[0].GetArray("Members")!, m => m.GetString("GroupInstanceId") == "two");
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("s", 2, two));
    }

    [Fact]
    public async Task A_static_member_can_be_removed_by_instance_id_alone()
    {
        using var h = NewHarness();
        var (one, _) = await FormStaticGroup(h);
        var leave = await h.LeaveGroup("s", 4, ("", "two"));
        Assert.Equal(KafkaError.None, (KafkaError)Assert.Single(leave.GetArray("Members")!).GetInt16("ErrorCode"));
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("s", 1, one, instanceId: "one"));
        // A stale member id with a live instance id is fenced rather than removed.
        var join = await h.JoinGroup("s", one, 5, instanceId: "one", clientId: "c1").Within();
        Assert.Equal(2, join.GetInt32("GenerationId"));
        var stale = await h.LeaveGroup("s", 4, ("one-stale", "one"));
        Assert.Equal(KafkaError.FencedInstanceId, (KafkaError)stale.GetArray("Members")![0].GetInt16("ErrorCode"));
    }

    [Theory]
    [InlineData(9, true)]
    [InlineData(5, false)]
    public async Task A_returning_static_leader_learns_it_leads_but_skips_the_assignment(short version, bool toldToSkip)
    {
        using var h = NewHarness();
        var (one, _) = await FormStaticGroup(h, version);
        StructValue rejoin = await h.JoinGroup("s", "", version, instanceId: "one", clientId: "c1").Within();
        Assert.Equal(KafkaError.None, Errors.Of(rejoin));
        string newOne = rejoin.GetString("MemberId")!;
        Assert.NotEqual(one, newOne);
        Assert.Equal(newOne, rejoin.GetString("Leader"));
        Assert.Equal(1, rejoin.GetInt32("GenerationId"));
        Assert.Equal(toldToSkip, rejoin.GetBool("SkipAssignment"));
        Assert.Equal(toldToSkip ? 2 : 0, rejoin.GetArray("Members")!.Count);
        var sync = await h.SyncGroup("s", 1, newOne, instanceId: "one").Within();
        Assert.Equal("p-one", Text(sync.GetBytes("Assignment")));
    }
}
