namespace Quill.Broker.Metadata;

/// <summary>
/// The controller's leader elections for one partition, as Kafka's ZooKeeper-mode controller decides them. Each
/// returns the state to write (a new leader always with the next leader epoch), or null when nothing changes.
/// <list type="bullet">
/// <item><see cref="Elect"/>: a new partition, or one whose leader died (the offline-partition election). A new
/// partition's ISR is its live replicas (all empty, so all in sync). When the leader dies, the first live replica (in
/// assignment order) that is in the ISR leads, with the ISR cut to the live members; if no ISR member is live, the
/// partition goes offline (leader -1, the ISR kept as Kafka keeps its last member) until one returns, rather than
/// moving to a replica that may lack acknowledged records, unless unclean election is allowed: then the first live
/// replica leads alone.</item>
/// <item><see cref="ControlledShutdown"/>: a stopping broker's leadership goes to another live ISR member, and it
/// leaves the ISR of the partitions it follows.</item>
/// <item><see cref="Preferred"/>: the first replica takes over if it is live and in the ISR.</item>
/// </list>
/// </summary>
public static class LeaderElection
{
    /// <summary>The state a partition needs now that <paramref name="live"/> are the live brokers, or null if it needs no change.</summary>
    public static PartitionState? Elect(int[] replicas, PartitionState state, IReadOnlySet<int> live, int controllerEpoch, bool allowUnclean = false)
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
        if (allowUnclean && Unclean(replicas, state, live, controllerEpoch) is { } unclean) return unclean;
        return state.Leader < 0 ? null : new PartitionState(-1, state.LeaderEpoch + 1, state.Isr, controllerEpoch);
    }

    /// <summary>
    /// An unclean election: the first live replica leads even out of the ISR (records only the old ISR had are lost),
    /// alone in the new ISR; null when no replica is live.
    /// </summary>
    public static PartitionState? Unclean(int[] replicas, PartitionState state, IReadOnlySet<int> live, int controllerEpoch)
    {
        int leader = replicas.FirstOrDefault(live.Contains, -1);
        return leader < 0 ? null : new PartitionState(leader, state.LeaderEpoch + 1, [leader], controllerEpoch);
    }

    /// <summary>
    /// Broker <paramref name="stopping"/> is shutting down. If it leads, the first replica that is live
    /// (<paramref name="eligible"/>: registered and not stopping itself) and in the ISR takes over, with the next leader
    /// epoch and the stopping broker out of the ISR; if none can, nothing changes (the partition stays where it is until
    /// the broker is gone). If it follows and is in the ISR, it leaves the ISR, with the next leader epoch as Kafka's
    /// controller writes it: the leader starts a fresh view of its followers, so the stopping broker's last fetch
    /// (caught up) cannot bring it back into the ISR. A partition without a leader keeps its ISR, as an offline
    /// partition keeps its last member.
    /// </summary>
    public static PartitionState? ControlledShutdown(int[] replicas, PartitionState state, int stopping, IReadOnlySet<int> eligible, int controllerEpoch)
    {
        if (!state.IsWritten || replicas.Length <= 1) return null;
        var isr = state.Isr.Where(r => r != stopping).ToArray();
        if (state.Leader == stopping)
        {
            int leader = replicas.FirstOrDefault(r => r != stopping && eligible.Contains(r) && isr.Contains(r), -1);
            return leader < 0 ? null : new PartitionState(leader, state.LeaderEpoch + 1, isr, controllerEpoch);
        }
        if (state.Leader < 0 || isr.Length == state.Isr.Length || isr.Length == 0) return null;
        return new PartitionState(state.Leader, state.LeaderEpoch + 1, isr, controllerEpoch);
    }

    /// <summary>
    /// A preferred-replica election: the first replica leads, keeping the ISR, if it is eligible (live, not stopping)
    /// and in the ISR. <see cref="PreferredOutcome.NotNeeded"/> when it leads already.
    /// </summary>
    public static (PreferredOutcome Outcome, PartitionState? State) Preferred(int[] replicas, PartitionState state, IReadOnlySet<int> eligible, int controllerEpoch)
    {
        if (replicas.Length == 0 || !state.IsWritten) return (PreferredOutcome.NotAvailable, null);
        int preferred = replicas[0];
        if (state.Leader == preferred) return (PreferredOutcome.NotNeeded, null);
        if (!eligible.Contains(preferred) || !state.Isr.Contains(preferred)) return (PreferredOutcome.NotAvailable, null);
        return (PreferredOutcome.Elected, new PartitionState(preferred, state.LeaderEpoch + 1, state.Isr, controllerEpoch));
    }
}

/// <summary>What a preferred-replica election came to.</summary>
public enum PreferredOutcome
{
    Elected,
    NotNeeded,
    NotAvailable,
}
