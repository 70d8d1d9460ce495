namespace Quill.Broker.Metadata;

/// <summary>
/// The steps of moving a partition to other brokers, as Kafka's controller takes them (KIP-455): first the replica
/// set becomes target + origin (the added replicas fetch and catch up, the ISR grows), then, once every target
/// replica is in the ISR, the set becomes the target, the ISR loses the removed replicas and, if the leader is one
/// of them, a target replica in the ISR leads (new leader epoch). Cancelling goes back to the origin the same way.
/// </summary>
public static class PartitionReassignment
{
    /// <summary>The replicas the partition had before the reassignment in progress (its replicas when none is).</summary>
    public static int[] Origin(PartitionInfo p) => [.. p.Replicas.Where(r => !p.AddingReplicas.Contains(r))];

    /// <summary>Where the reassignment in progress is going (the replicas when none is).</summary>
    public static int[] Target(PartitionInfo p) => [.. p.Replicas.Where(r => !p.RemovingReplicas.Contains(r))];

    /// <summary>
    /// The partition while it moves from its origin to <paramref name="target"/>: target first (so its order is kept),
    /// then the origin replicas still to be removed. A new target replaces one in progress, from the same origin.
    /// </summary>
    public static PartitionInfo Begin(PartitionInfo p, int[] target)
    {
        var origin = Origin(p);
        return p with
        {
            Replicas = [.. target.Concat(origin).Distinct()],
            AddingReplicas = [.. target.Where(r => !origin.Contains(r))],
            RemovingReplicas = [.. origin.Where(r => !target.Contains(r))],
        };
    }

    /// <summary>
    /// The state that completes a move to <paramref name="replicas"/> (the target, or the origin when cancelling), or
    /// null while a target replica is still out of the ISR (unless <paramref name="force"/>: a cancel does not wait).
    /// The ISR keeps only <paramref name="replicas"/>; a leader outside them (or not live) gives way to the first live
    /// one in the ISR, with a new leader epoch; with none, the partition has no leader until one returns.
    /// </summary>
    public static PartitionState? Finish(int[] replicas, PartitionState state, IReadOnlySet<int> live, int controllerEpoch, bool force = false)
    {
        if (!force && !replicas.All(state.Isr.Contains)) return null;
        int[] isr = [.. state.Isr.Where(replicas.Contains)];
        if (replicas.Contains(state.Leader) && live.Contains(state.Leader))
            return new PartitionState(state.Leader, state.LeaderEpoch, isr, controllerEpoch);
        int leader = replicas.FirstOrDefault(r => live.Contains(r) && isr.Contains(r), -1);
        return new PartitionState(leader, state.LeaderEpoch + 1, leader < 0 ? state.Isr : isr, controllerEpoch);
    }
}
