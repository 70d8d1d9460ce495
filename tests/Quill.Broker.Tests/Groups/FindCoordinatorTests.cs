using Quill.Broker.Groups;
using Quill.Kafka.Protocol;
using Quill.Kafka.Protocol.Messages;

namespace Quill.Broker.Tests.Groups;

public class FindCoordinatorTests
{
    [Fact]
    public async Task This_broker_coordinates_every_group_in_every_version()
    {
        using var h = new GroupHarness();
        for (short version = 0; version <= 3; version++)
        {
            var response = await h.Send(ApiKey.FindCoordinator, version, b => b.SetString("Key", "any-group").SetInt("KeyType", 0));
            Assert.Equal(KafkaError.None, Errors.Of(response));
            Assert.Equal(7, response.GetInt32("NodeId"));
            Assert.Equal("127.0.0.1", response.GetString("Host"));
            Assert.Equal(19092, response.GetInt32("Port"));
            if (version >= 1) Assert.Null(response.GetString("ErrorMessage"));
        }
        for (short version = 4; version <= 6; version++)
        {
            var response = await h.Send(ApiKey.FindCoordinator, version, b => b.SetStringArray("CoordinatorKeys", ["g1", "g2"]));
            var coordinators = response.GetArray("Coordinators")!;
            Assert.Equal(["g1", "g2"], coordinators.Select(c => c.GetString("Key")));
            Assert.All(coordinators, c =>
            {
                Assert.Equal(KafkaError.None, Errors.Of(c));
                Assert.Equal((7, "127.0.0.1", 19092), (c.GetInt32("NodeId"), c.GetString("Host"), c.GetInt32("Port")));
            });
        }
    }

    [Fact]
    public async Task Before_the_coordinator_has_loaded_clients_are_told_to_retry()
    {
        using var h = new GroupHarness(start: false);
        var response = await h.Send(ApiKey.FindCoordinator, 3, b => b.SetString("Key", "g"));
        Assert.Equal(KafkaError.CoordinatorNotAvailable, Errors.Of(response));
        Assert.Equal(-1, response.GetInt32("NodeId"));
        var batched = await h.Send(ApiKey.FindCoordinator, 4, b => b.SetStringArray("CoordinatorKeys", ["g"]));
        Assert.Equal(KafkaError.CoordinatorNotAvailable, Errors.Of(batched.GetArray("Coordinators")![0]));
        await h.Coordinator.StartAsync();
        Assert.Equal(KafkaError.None, Errors.Of(await h.Send(ApiKey.FindCoordinator, 3, b => b.SetString("Key", "g"))));
    }

    [Fact]
    public async Task There_is_no_transaction_coordinator()
    {
        using var h = new GroupHarness();
        var response = await h.Send(ApiKey.FindCoordinator, 3, b => b.SetString("Key", "txn-id").SetInt("KeyType", 1));
        Assert.Equal(KafkaError.InvalidRequest, Errors.Of(response));
        Assert.Contains("not supported", response.GetString("ErrorMessage"));
    }

    [Fact]
    public void The_handlers_cover_the_group_apis()
    {
        using var h = new GroupHarness();
        Assert.Equal(
            [ApiKey.OffsetCommit, ApiKey.OffsetFetch, ApiKey.FindCoordinator, ApiKey.JoinGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup,
             ApiKey.SyncGroup, ApiKey.DescribeGroups, ApiKey.ListGroups, ApiKey.DeleteGroups],
            h.HandledApis.Order());
    }
}
