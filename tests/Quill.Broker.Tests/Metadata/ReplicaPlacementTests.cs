using Quill.Broker.Metadata;

namespace Quill.Broker.Tests.Metadata;

/// <summary>Replica placement and leader election against the cases Kafka's own AdminUtils and controller tests pin down.</summary>
public sealed class ReplicaPlacementTests
{
    private static List<BrokerInfo> Brokers(params (int Id, string? Rack)[] brokers) => [.. brokers.Select(b => new BrokerInfo(b.Id, "h", 9092, b.Rack))];

    [Fact]
    public void without_racks_replicas_go_round_robin_with_a_shift_that_grows_each_round()
    {
        var assignment = ReplicaPlacement.Assign(10, 3, Brokers((0, null), (1, null), (2, null), (3, null), (4, null)), fixedStart: 0);
        int[][] expected = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1], [0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2]];
        Assert.Equal(expected, assignment.Select(a => a.Replicas));
        Assert.Equal(Enumerable.Range(0, 10), assignment.Select(a => a.Partition));
    }

    [Fact]
    public void with_racks_the_brokers_alternate_rack_by_rack_and_a_partitions_replicas_land_in_different_racks()
    {
        var brokers = Brokers((0, "rack1"), (1, "rack3"), (2, "rack3"), (3, "rack2"), (4, "rack2"), (5, "rack1"));
        var assignment = ReplicaPlacement.Assign(7, 3, brokers, fixedStart: 0);
        int[][] expected = [[0, 3, 1], [3, 1, 5], [1, 5, 4], [5, 4, 2], [4, 2, 0], [2, 0, 3], [0, 4, 2]];
        Assert.Equal(expected, assignment.Select(a => a.Replicas));
    }

    [Fact]
    public void a_random_start_still_gives_every_broker_an_equal_share_of_leaders_and_distinct_replicas()
    {
        var brokers = Brokers((1, null), (2, null), (3, null));
        for (int run = 0; run < 20; run++)
        {
            var assignment = ReplicaPlacement.Assign(6, 3, brokers);
            Assert.All(assignment, a => Assert.Equal([1, 2, 3], a.Replicas.Order()));
            Assert.All(assignment.GroupBy(a => a.Replicas[0]), g => Assert.Equal(2, g.Count()));
        }
    }

    [Fact]
    public void partitions_added_later_continue_the_numbering()
    {
        var added = ReplicaPlacement.Assign(2, 1, Brokers((1, null), (2, null)), firstPartition: 4, fixedStart: 0);
        Assert.Equal(["4:1", "5:2"], added.Select(a => $"{a.Partition}:{string.Join(',', a.Replicas)}"));
    }

    [Fact]
    public void a_new_partition_is_led_by_its_first_live_replica_with_every_live_replica_in_sync()
    {
        var elected = LeaderElection.Elect([3, 1, 2], PartitionState.None, new HashSet<int> { 1, 2 }, controllerEpoch: 7)!;
        Assert.Equal((1, 0, 7), (elected.Leader, elected.LeaderEpoch, elected.ControllerEpoch));
        Assert.Equal([1, 2], elected.Isr);
        Assert.Null(LeaderElection.Elect([3], PartitionState.None, new HashSet<int> { 1 }, 7));
    }

    [Fact]
    public void a_partition_whose_only_in_sync_replica_dies_goes_offline_and_returns_to_it_with_a_new_leader_epoch()
    {
        var led = new PartitionState(2, 4, [2], 1);
        Assert.Null(LeaderElection.Elect([2, 3], led, new HashSet<int> { 2, 3 }, 2));

        var offline = LeaderElection.Elect([2, 3], led, new HashSet<int> { 3 }, 2)!;
        Assert.Equal((-1, 5, 2), (offline.Leader, offline.LeaderEpoch, offline.ControllerEpoch));
        Assert.Equal([2], offline.Isr);
        Assert.Null(LeaderElection.Elect([2, 3], offline, new HashSet<int> { 3 }, 2));

        var back = LeaderElection.Elect([2, 3], offline, new HashSet<int> { 2, 3 }, 3)!;
        Assert.Equal((2, 6, 3), (back.Leader, back.LeaderEpoch, back.ControllerEpoch));
        Assert.Equal([2], back.Isr);
    }

    [Fact]
    public void a_dead_leader_is_replaced_by_the_first_live_in_sync_replica_never_by_one_out_of_sync()
    {
        var led = new PartitionState(1, 3, [1, 3], 1);
        var elected = LeaderElection.Elect([1, 2, 3], led, new HashSet<int> { 2, 3 }, 2)!;
        Assert.Equal((3, 4), (elected.Leader, elected.LeaderEpoch));
        Assert.Equal([3], elected.Isr);

        var offline = LeaderElection.Elect([1, 2, 3], new PartitionState(1, 3, [1], 1), new HashSet<int> { 2, 3 }, 2)!;
        Assert.Equal(-1, offline.Leader);
    }
}
