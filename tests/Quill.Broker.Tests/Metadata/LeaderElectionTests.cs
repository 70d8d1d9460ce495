using Quill.Broker.Metadata;

namespace Quill.Broker.Tests.Metadata;

/// <summary>
/// The controller's elections beyond failover (<see cref="LeaderElection"/>): controlled shutdown, preferred replica,
/// unclean. The offline-partition election of a dead leader is in <see cref="ReplicaPlacementTests"/>.
/// </summary>
public sealed class LeaderElectionTests
{
    private static readonly HashSet<int> All = [1, 2, 3];

    [Fact]
    public void a_stopping_leader_hands_over_to_the_first_other_isr_member_with_the_next_epoch_and_leaves_the_isr()
    {
        var state = new PartitionState(1, 4, [1, 3, 2], 1) { ZkVersion = 7 };
        var next = LeaderElection.ControlledShutdown([1, 2, 3], state, stopping: 1, eligible: new HashSet<int> { 2, 3 }, controllerEpoch: 2)!;
        Assert.Equal((2, 5, 2), (next.Leader, next.LeaderEpoch, next.ControllerEpoch));
        Assert.Equal([3, 2], next.Isr);
    }

    [Fact]
    public void a_stopping_leader_keeps_a_partition_no_live_isr_member_can_take()
    {
        var alone = new PartitionState(1, 4, [1], 1);
        Assert.Null(LeaderElection.ControlledShutdown([1, 2, 3], alone, 1, new HashSet<int> { 2, 3 }, 2));
        var othersStopping = new PartitionState(1, 4, [1, 2], 1);
        Assert.Null(LeaderElection.ControlledShutdown([1, 2, 3], othersStopping, 1, new HashSet<int> { 3 }, 2));
        Assert.Null(LeaderElection.ControlledShutdown([1], new PartitionState(1, 0, [1], 1), 1, All, 2));
    }

    [Fact]
    public void a_stopping_follower_leaves_the_isr_under_a_new_leader_epoch()
    {
        var state = new PartitionState(2, 4, [2, 1, 3], 1);
        var next = LeaderElection.ControlledShutdown([1, 2, 3], state, stopping: 1, eligible: new HashSet<int> { 2, 3 }, controllerEpoch: 2)!;
        Assert.Equal((2, 5), (next.Leader, next.LeaderEpoch));
        Assert.Equal([2, 3], next.Isr);
        // Out of the ISR already, or the partition is offline: nothing to write.
        Assert.Null(LeaderElection.ControlledShutdown([1, 2, 3], new PartitionState(2, 4, [2, 3], 1), 1, All, 2));
        Assert.Null(LeaderElection.ControlledShutdown([1, 2, 3], new PartitionState(-1, 4, [1], 1), 1, All, 2));
    }

    [Fact]
    public void the_preferred_replica_takes_over_only_when_live_and_in_sync()
    {
        var led = new PartitionState(2, 3, [2, 1], 1);
        var (outcome, next) = LeaderElection.Preferred([1, 2], led, All, 2);
        Assert.Equal(PreferredOutcome.Elected, outcome);
        Assert.Equal((1, 4), (next!.Leader, next.LeaderEpoch));
        Assert.Equal([2, 1], next.Isr);
        Assert.Equal(PreferredOutcome.NotNeeded, LeaderElection.Preferred([2, 1], led, All, 2).Outcome);
        Assert.Equal(PreferredOutcome.NotAvailable, LeaderElection.Preferred([3, 2], led, All, 2).Outcome);                 // not in sync
        Assert.Equal(PreferredOutcome.NotAvailable, LeaderElection.Preferred([1, 2], led, new HashSet<int> { 2 }, 2).Outcome); // not live
    }

    [Fact]
    public void an_unclean_election_picks_a_live_replica_out_of_the_isr_only_when_allowed()
    {
        var offline = new PartitionState(1, 3, [1], 1);
        var live = new HashSet<int> { 2, 3 };
        Assert.Equal(-1, LeaderElection.Elect([1, 3, 2], offline, live, 2)!.Leader); // clean: offline
        var unclean = LeaderElection.Elect([1, 3, 2], offline, live, 2, allowUnclean: true)!;
        Assert.Equal((3, 4), (unclean.Leader, unclean.LeaderEpoch));
        Assert.Equal([3], unclean.Isr);
        // A live ISR member is still preferred to an unclean choice.
        var clean = LeaderElection.Elect([1, 3, 2], new PartitionState(1, 3, [1, 2], 1), live, 2, allowUnclean: true)!;
        Assert.Equal(2, clean.Leader);
        Assert.Null(LeaderElection.Unclean([1], offline, live, 2));
    }
}
