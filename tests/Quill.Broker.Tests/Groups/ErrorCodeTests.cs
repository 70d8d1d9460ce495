using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;
using static Quill.Broker.Tests.Groups.GroupRequests;

namespace Quill.Broker.Tests.Groups;

public class ErrorCodeTests
{
    [Fact]
    public async Task Join_refuses_bad_requests_with_Kafkas_codes()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0 });
        Assert.Equal(KafkaError.InvalidGroupId, Errors.Of(await h.JoinGroup("")));
        Assert.Equal(KafkaError.InvalidSessionTimeout, Errors.Of(await h.JoinGroup("g", sessionTimeoutMs: 5_999)));
        Assert.Equal(KafkaError.InvalidSessionTimeout, Errors.Of(await h.JoinGroup("g", sessionTimeoutMs: 1_800_001)));
        Assert.Equal(KafkaError.UnknownMemberId, Errors.Of(await h.JoinGroup("no-group", "made-up-id")));
        Assert.Equal(KafkaError.InconsistentGroupProtocol, Errors.Of(await h.JoinGroup("g", "", 5, protocols: [])));
        Assert.Equal(KafkaError.InconsistentGroupProtocol, Errors.Of(await h.JoinGroup("g", "", 5, protocolType: "")));

        var (members, _) = await h.FormGroup("g", "a");
        // A different protocol type, or no protocol in common with the members.
        Assert.Equal(KafkaError.InconsistentGroupProtocol, Errors.Of(await h.JoinGroup("g", "", 3, protocolType: "connect")));
        Assert.Equal(KafkaError.InconsistentGroupProtocol, Errors.Of(await h.JoinGroup("g", "", 3, protocols: [("sticky", Bytes("x"))])));
        Assert.Equal(KafkaError.UnknownMemberId, Errors.Of(await h.JoinGroup("g", "made-up-id")));
        var error = Errors.Of(await h.JoinGroup("g", "", 4));
        Assert.Equal(KafkaError.MemberIdRequired, error);
        // Version < 7 carries "" for a missing protocol name, v7+ null.
        var failed = await h.JoinGroup("g", "", 6, sessionTimeoutMs: 1);
        Assert.Equal("", failed.GetString("ProtocolName"));
        Assert.Equal(-1, failed.GetInt32("GenerationId"));
        failed = await h.JoinGroup("g", "", 7, sessionTimeoutMs: 1);
        Assert.Null(failed.GetString("ProtocolName"));
    }

    [Fact]
    public async Task Sync_and_heartbeat_check_member_generation_and_protocol()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0 });
        var (members, generation) = await h.FormGroup("g", "a");
        string a = members["a"];
        Assert.Equal(KafkaError.UnknownMemberId, Errors.Of(await h.SyncGroup("nope", 1, a)));
        Assert.Equal(KafkaError.UnknownMemberId, Errors.Of(await h.SyncGroup("g", generation, "who")));
        Assert.Equal(KafkaError.IllegalGeneration, Errors.Of(await h.SyncGroup("g", generation + 1, a)));
        Assert.Equal(KafkaError.InconsistentGroupProtocol, Errors.Of(await h.SyncGroup("g", generation, a, protocolName: "roundrobin")));
        Assert.Equal(KafkaError.InconsistentGroupProtocol, Errors.Of(await h.SyncGroup("g", generation, a, protocolType: "connect")));
        Assert.Equal(KafkaError.None, Errors.Of(await h.SyncGroup("g", generation, a, protocolName: "range")));

        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("nope", 1, a));
        Assert.Equal(KafkaError.UnknownMemberId, await h.Heartbeat("g", generation, "who"));
        Assert.Equal(KafkaError.IllegalGeneration, await h.Heartbeat("g", generation - 1, a));
        Assert.Equal(KafkaError.InvalidGroupId, await h.Heartbeat("", generation, a));
        for (short version = 0; version <= 4; version++)
            Assert.Equal(KafkaError.None, await h.Heartbeat("g", generation, a, version));
    }

    [Fact]
    public async Task A_group_max_size_is_enforced()
    {
        using var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 0, MaxGroupSize = 1 });
        await h.FormGroup("g", "a");
        Assert.Equal(KafkaError.GroupMaxSizeReached, Errors.Of(await h.JoinGroup("g", "", 9, clientId: "b")));
    }

    [Fact]
    public async Task While_loading_the_group_apis_answer_as_Kafka_does()
    {
        using var h = new GroupHarness(start: false);
        Assert.Equal(KafkaError.CoordinatorLoadInProgress, Errors.Of(await h.JoinGroup("g")));
        // Sync sends the member back to JoinGroup; a heartbeat is answered blindly.
        Assert.Equal(KafkaError.RebalanceInProgress, Errors.Of(await h.SyncGroup("g", 1, "m")));
        Assert.Equal(KafkaError.None, await h.Heartbeat("g", 1, "m"));
        Assert.Equal(KafkaError.CoordinatorLoadInProgress, CommitErrors(await h.CommitOffsets("g", offsets: ("t", 0, 1))).Single().Error);
        Assert.Equal(KafkaError.CoordinatorLoadInProgress, Errors.Of(await h.FetchOffsets("g", 7, ("t", [0]))));
        // Before v2 the error is in each partition.
        Assert.Equal(KafkaError.CoordinatorLoadInProgress, Offsets(await h.FetchOffsets("g", 1, ("t", [0])))[("t", 0)].Error);
        var v8 = await h.Send(ApiKey.OffsetFetch, 8, b => b.AddElement("Groups").SetString("GroupId", "g").SetArray("Topics", null));
        Assert.Equal(KafkaError.CoordinatorLoadInProgress, Errors.Of(v8.GetArray("Groups")![0]));
        Assert.Equal(KafkaError.CoordinatorLoadInProgress, Errors.Of(await h.Send(ApiKey.ListGroups, 4, _ => { })));
        Assert.Equal(KafkaError.CoordinatorLoadInProgress, Errors.Of((await h.DescribeGroups(5, "g")).GetArray("Groups")![0]));
    }

    [Fact]
    public async Task Stopping_the_coordinator_answers_waiting_joins()
    {
        var h = new GroupHarness(new GroupCoordinatorOptions { InitialRebalanceDelayMs = 60_000 });
        try
        {
            var (_, join) = await h.JoinNew("g", "a");
            await Task.Delay(50);
            Assert.False(join.IsCompleted);
            await h.Coordinator.DisposeAsync();
            Assert.Equal(KafkaError.NotCoordinator, Errors.Of(await join.Within()));
            Assert.Equal(KafkaError.CoordinatorNotAvailable, Errors.Of(await h.JoinGroup("g")));
        }
        finally
        {
            h.Dispose();
        }
    }
}
