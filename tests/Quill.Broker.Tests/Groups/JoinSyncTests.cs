using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

public class JoinSyncTests
{
    [Fact]
    public async Task One_member_joins_syncs_and_heartbeats()
    {
        using var h = new GroupHarness();
        var (memberId, joining) = await h.JoinNew("g1", "alice");
        var join = await joining.Within();

        Assert.Equal(KafkaError.None, Errors.Of(join));
        Assert.Equal(1, join.GetInt32("GenerationId"));
        Assert.Equal(memberId, join.GetString("MemberId"));
        Assert.Equal(memberId, join.GetString("Leader"));
        Assert.Equal("consumer", join.GetString("ProtocolType"));
        Assert.Equal("range", join.GetString("ProtocolName"));
        var members = join.GetArray("Members")!;
        Assert.Equal(memberId, Assert.Single(members).GetString("MemberId"));
        Assert.Equal("range:alice", Text(members[0].GetBytes("Metadata")));

        var sync = await h.SyncGroup("g1", 1, memberId, protocolName: "range", assignments: (memberId, Bytes("all of it"))).Within();
        Assert.Equal(KafkaError.None, Errors.Of(sync));
        Assert.Equal("all of it", Text(sync.GetBytes("Assignment")));
        Assert.Equal("range", sync.GetString("ProtocolName"));
        Assert.Equal(KafkaError.None, await h.Heartbeat("g1", 1, memberId));

        var group = Assert.Single((await h.DescribeGroups(5, "g1")).GetArray("Groups")!);
        Assert.Equal("Stable", group.GetString("GroupState"));
        Assert.Equal("range", group.GetString("ProtocolData"));
        Assert.Equal("all of it", Text(Assert.Single(group.GetArray("Members")!).GetBytes("MemberAssignment")));
        Assert.Equal("/127.0.0.1", group.GetArray("Members")![0].GetString("ClientHost"));
        Assert.Equal("alice", group.GetArray("Members")![0].GetString("ClientId"));
    }

    [Fact]
    public async Task Three_members_in_one_generation_leader_assigns_followers_wait_for_it()
    {
        // The initial delay gathers the three into the first generation.
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 3000 });
        var a = await h.JoinNew("g3", "a");
        var b = await h.JoinNew("g3", "b");
        var c = await h.JoinNew("g3", "c");
        h.Advance(2900);
        Assert.False(a.Join.IsCompleted);

        // b and c arrived during the delay, so it is extended by another delay (bounded by the rebalance timeout).
        h.Advance(200);
        await Task.Delay(50);
        Assert.False(a.Join.IsCompleted);
        h.Advance(3000);
        var joins = await Task.WhenAll(a.Join, b.Join, c.Join).Within();
        Assert.All(joins, j => Assert.Equal(KafkaError.None, Errors.Of(j)));
        Assert.All(joins, j => Assert.Equal(1, j.GetInt32("GenerationId")));
        Assert.All(joins, j => Assert.Equal(a.MemberId, j.GetString("Leader")));
        Assert.Equal(3, joins[0].GetArray("Members")!.Count);
        Assert.Equal(["range:a", "range:b", "range:c"], joins[0].GetArray("Members")!.Select(m => Text(m.GetBytes("Metadata"))).Order());
        Assert.Empty(joins[1].GetArray("Members")!);
        Assert.Empty(joins[2].GetArray("Members")!);

        var followerB = h.SyncGroup("g3", 1, b.MemberId);
        var followerC = h.SyncGroup("g3", 1, c.MemberId);
        await Task.Delay(50);
        Assert.False(followerB.IsCompleted);

        var leader = await h.SyncGroup("g3", 1, a.MemberId, assignments:
            [(a.MemberId, Bytes("p0")), (b.MemberId, Bytes("p1")), (c.MemberId, Bytes("p2"))]).Within();
        Assert.Equal("p0", Text(leader.GetBytes("Assignment")));
        Assert.Equal("p1", Text((await followerB.Within()).GetBytes("Assignment")));
        Assert.Equal("p2", Text((await followerC.Within()).GetBytes("Assignment")));
        foreach (var m in new[] { a, b, c }) Assert.Equal(KafkaError.None, await h.Heartbeat("g3", 1, m.MemberId));
    }

    [Fact]
    public async Task Initial_delay_is_extended_while_members_keep_arriving_but_not_past_the_rebalance_timeout()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 3000 });
        var a = await h.JoinNew("g", "a", rebalanceTimeoutMs: 10_000);
        h.Advance(1000);
        var b = await h.JoinNew("g", "b", rebalanceTimeoutMs: 10_000);
        h.Advance(2100); // first delay over; b arrived during it: another 3 s
        Assert.False(a.Join.IsCompleted);
        h.Advance(3000);
        var joins = await Task.WhenAll(a.Join, b.Join).Within();
        Assert.All(joins, j => Assert.Equal(1, j.GetInt32("GenerationId")));
        Assert.Equal(2, joins[0].GetArray("Members")!.Count);
    }

    [Fact]
    public async Task Protocol_is_the_one_all_support_most_preferred()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 1000 });
        var a = await h.JoinNew("g", "a", protocols: [("range", Bytes("x")), ("roundrobin", Bytes("y"))]);
        var b = await h.JoinNew("g", "b", protocols: [("cooperative-sticky", Bytes("z")), ("roundrobin", Bytes("w"))]);
        h.Advance(2000); // the delay, extended once because b arrived during it
        var joins = await Task.WhenAll(a.Join, b.Join).Within();
        Assert.All(joins, j => Assert.Equal("roundrobin", j.GetString("ProtocolName")));
        // The leader sees each member's metadata for the chosen protocol.
        Assert.Equal(["w", "y"], joins[0].GetArray("Members")!.Select(m => Text(m.GetBytes("Metadata"))).Order());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Old_clients_join_without_a_member_id_round_trip(short version)
    {
        using var h = new GroupHarness();
        var join = await h.JoinGroup("old", "", version: version).Within();
        Assert.Equal(KafkaError.None, Errors.Of(join));
        string memberId = join.GetString("MemberId")!;
        Assert.StartsWith("test-client-", memberId);
        Assert.Equal("range", join.GetString("ProtocolName"));
        var sync = await h.SyncGroup("old", 1, memberId, version: 0, assignments: (memberId, Bytes("a"))).Within();
        Assert.Equal("a", Text(sync.GetBytes("Assignment")));
        Assert.Equal(KafkaError.None, await h.Heartbeat("old", 1, memberId, version: 0));
    }

    [Fact]
    public async Task A_join_in_every_version_gets_an_answer_it_can_decode()
    {
        using var h = new GroupHarness();
        for (short version = 0; version <= 9; version++)
        {
            string group = $"v{version}";
            string memberId;
            Task<Quill.Kafka.Protocol.Schema.StructValue> joining;
            if (version >= 4) (memberId, joining) = await h.JoinNew(group, "client", version);
            else
            {
                joining = h.JoinGroup(group, "", version, clientId: "client");
                memberId = "";
            }
            var join = await joining.Within();
            Assert.Equal(KafkaError.None, Errors.Of(join));
            if (version >= 4) Assert.Equal(memberId, join.GetString("MemberId"));
            Assert.Equal("range", join.GetString("ProtocolName"));
            Assert.Equal(version >= 7 ? "consumer" : null, join.GetString("ProtocolType"));
            for (short syncVersion = 0; syncVersion <= 5; syncVersion++)
            {
                var sync = await h.SyncGroup(group, 1, join.GetString("MemberId")!, syncVersion,
                    assignments: (join.GetString("MemberId")!, Bytes("x"))).Within();
                Assert.Equal(KafkaError.None, Errors.Of(sync));
                Assert.Equal("x", Text(sync.GetBytes("Assignment")));
                Assert.Equal(syncVersion >= 5 ? "range" : null, sync.GetString("ProtocolName"));
            }
        }
    }

    [Fact]
    public async Task A_follower_that_lost_its_join_response_gets_the_generation_again_without_a_rebalance()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 500 });
        var a = await h.JoinNew("g", "a");
        var b = await h.JoinNew("g", "b");
        h.Advance(1000);
        await Task.WhenAll(a.Join, b.Join).Within();

        // CompletingRebalance: b asks again with the same metadata.
        var again = await h.JoinGroup("g", b.MemberId, clientId: "b").Within();
        Assert.Equal(KafkaError.None, Errors.Of(again));
        Assert.Equal(1, again.GetInt32("GenerationId"));
        Assert.Equal(a.MemberId, again.GetString("Leader"));
    }
    [Fact]
    public async Task SyncGroup_is_answered_once_the_assignment_is_replicated()
    {
        var replication = new ReplicationGatedOffsetsLog();
        using var h = new GroupHarness(wrapLog: replication.Wrap);
        var a = await h.JoinNew("gr", "a");
        var join = await a.Join.Within();
        replication.Hold();

        var sync = h.SyncGroup("gr", join.GetInt32("GenerationId"), a.MemberId, assignments: (a.MemberId, Bytes("p0")));
        await replication.UntilWaitingAsync(1);
        Assert.False(sync.IsCompleted, "answered before the followers had the group's record");
        Assert.Equal("CompletingRebalance", Assert.Single((await h.DescribeGroups(5, "gr")).GetArray("Groups")!).GetString("GroupState"));

        replication.Replicate(KafkaError.None);
        var answer = await sync.Within();
        Assert.Equal(KafkaError.None, Errors.Of(answer));
        Assert.Equal("p0", Text(answer.GetBytes("Assignment")));
        Assert.Equal("Stable", Assert.Single((await h.DescribeGroups(5, "gr")).GetArray("Groups")!).GetString("GroupState"));
    }

    [Fact]
    public async Task An_assignment_that_fails_to_replicate_fails_the_sync_and_the_group_rebalances()
    {
        var replication = new ReplicationGatedOffsetsLog();
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 100 }, wrapLog: replication.Wrap);
        var a = await h.JoinNew("gf", "a");
        var b = await h.JoinNew("gf", "b");
        h.Advance(201); // the initial delay gathers both into the first generation
        var joins = await Task.WhenAll(a.Join, b.Join).Within();
        int generation = joins[0].GetInt32("GenerationId");
        string leader = joins[0].GetString("Leader")!;
        string follower = leader == a.MemberId ? b.MemberId : a.MemberId;
        replication.Hold();

        var followerSync = h.SyncGroup("gf", generation, follower);
        var leaderSync = h.SyncGroup("gf", generation, leader, assignments: [(leader, Bytes("p0")), (follower, Bytes("p1"))]);
        await replication.UntilWaitingAsync(1);
        Assert.False(leaderSync.IsCompleted);

        // The ISR shrank below min.insync.replicas: Kafka answers COORDINATOR_NOT_AVAILABLE and starts a new round.
        replication.Replicate(KafkaError.NotEnoughReplicasAfterAppend);
        Assert.Equal(KafkaError.CoordinatorNotAvailable, Errors.Of(await leaderSync.Within()));
        Assert.Equal(KafkaError.CoordinatorNotAvailable, Errors.Of(await followerSync.Within()));
        Assert.Equal("PreparingRebalance", Assert.Single((await h.DescribeGroups(5, "gf")).GetArray("Groups")!).GetString("GroupState"));
        Assert.Equal(KafkaError.RebalanceInProgress, await h.Heartbeat("gf", generation, follower));
    }
}
