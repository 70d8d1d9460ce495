namespace Quill.Broker.Metadata;

/// <summary>
/// The controller's leader election for one partition (Kafka's offline-partition election with unclean election
/// off). A new partition's ISR is its live replicas (all empty, so all in sync). When the leader dies, the first live
/// replica (in assignment order) that is in the ISR leads, with a new leader epoch and the ISR cut to the live members;
/// if no ISR member is live, the partition goes offline (leader -1, the ISR kept as Kafka keeps its last member) until
/// one returns, rather than moving to a replica that may lack acknowledged records.
/// </summary>
public static class LeaderElection
{
    /// <summary>The state a partition needs now that <paramref name="live"/> are the live brokers, or null if it needs no change.</summary>
    public static PartitionState? Elect(int[] replicas, PartitionState state, IReadOnlySet<int> live, int controllerEpoch)
    {
        if (!state.IsWritten)
        {
            // A new partition: its first live replica leads; every live replica is in sync (all are empty).
            int first = replicas.FirstOrDefault(live.Contains, -1);
            return first < 0 ? null : new PartitionState(first, 0, [.. replicas.Where(live.Contains)], controllerEpoch);
        }
        if (live.Contains(state.Leader)) return null;
        // An empty ISR (written by some tool) says nothing of who is in sync: any replica may lead then.
        int leader = replicas.FirstOrDefault(r => live.Contains(r) && (state.Isr.Length == 0 || state.Isr.Contains(r)), -1);
        if (leader >= 0) return new PartitionState(leader, state.LeaderEpoch + 1, [.. state.Isr.Where(live.Contains).DefaultIfEmpty(leader)], controllerEpoch);
        return state.Leader < 0 ? null : new PartitionState(-1, state.LeaderEpoch + 1, state.Isr, controllerEpoch);
    }
}
