using Quill.Broker.Metadata;
using Quill.Kafka.Protocol;
using static Quill.Broker.Metadata.ControllerRequestCheck;

namespace Quill.Broker.Tests.Metadata;

/// <summary>The fences in front of the controller's LeaderAndIsr, UpdateMetadata and StopReplica (<see cref="ControllerRequestCheck"/>).</summary>
public sealed class ControllerRequestCheckTests
{
    [Fact]
    public void a_controller_epoch_older_than_the_newest_seen_is_stale_and_a_newer_one_raises_it()
    {
        var check = new ControllerRequestCheck();
        Assert.Equal(KafkaError.None, check.Check(controllerEpoch: 3, brokerEpoch: 100, ownBrokerEpoch: 100, out _));
        Assert.Equal(3, check.NewestControllerEpoch);
        Assert.Equal(KafkaError.None, check.Check(3, 100, 100, out _)); // the same controller again
        Assert.Equal(KafkaError.StaleControllerEpoch, check.Check(2, 100, 100, out string? why));
        Assert.Contains("older than the newest seen, 3", why);
        Assert.Equal(KafkaError.None, check.Check(5, 100, 100, out _));
        Assert.Equal(KafkaError.StaleControllerEpoch, check.Check(4, 100, 100, out _));
    }

    [Fact]
    public void a_broker_elected_controller_refuses_requests_of_the_controllers_before_it()
    {
        var check = new ControllerRequestCheck();
        check.Observe(7);
        Assert.Equal(KafkaError.StaleControllerEpoch, check.Check(6, -1, 100, out _));
        check.Observe(4); // never lowers it
        Assert.Equal(7, check.NewestControllerEpoch);
    }

    [Fact]
    public void a_broker_epoch_older_than_this_registration_is_stale_and_does_not_raise_the_controller_epoch()
    {
        var check = new ControllerRequestCheck();
        Assert.Equal(KafkaError.StaleBrokerEpoch, check.Check(9, brokerEpoch: 99, ownBrokerEpoch: 100, out string? why));
        Assert.Contains("older than this broker's registration 100", why);
        Assert.Equal(-1, check.NewestControllerEpoch);
        // No epoch in the request (older versions) or none known here: not checked, as in Kafka; a newer one is fine.
        Assert.Equal(KafkaError.None, check.Check(9, -1, 100, out _));
        Assert.Equal(KafkaError.None, check.Check(9, 99, -1, out _));
        Assert.Equal(KafkaError.None, check.Check(9, 101, 100, out _));
    }

    [Theory]
    [InlineData(5, 0, 4, 9, StateOrder.Newer)]  // a new leader epoch wins whatever the znode version
    [InlineData(4, 10, 4, 9, StateOrder.Newer)] // same leader, ISR changed: the newer partition epoch
    [InlineData(4, 9, 4, 9, StateOrder.Same)]   // already applied (through Keeper, or sent twice)
    [InlineData(4, 8, 4, 9, StateOrder.Same)]   // an older ISR of the same leader epoch changes nothing either
    [InlineData(3, 20, 4, 9, StateOrder.Older)] // an older leader epoch is refused
    [InlineData(0, 0, -1, -1, StateOrder.Newer)] // nothing held yet
    public void states_are_ordered_by_leader_epoch_then_partition_epoch(int leaderEpoch, int partitionEpoch, int heldEpoch, int heldPartitionEpoch,
        StateOrder expected) =>
        Assert.Equal(expected, Compare(leaderEpoch, partitionEpoch, heldEpoch, heldPartitionEpoch));
}
