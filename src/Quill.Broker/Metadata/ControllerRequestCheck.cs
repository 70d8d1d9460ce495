using Quill.Kafka.Protocol;

namespace Quill.Broker.Metadata;

/// <summary>
/// The fences a broker puts in front of the controller's requests (LeaderAndIsr, UpdateMetadata, StopReplica), as
/// Kafka's ZooKeeper-mode broker does: a broker epoch older than this broker's registration (the request was meant for
/// an earlier life of this broker) is STALE_BROKER_EPOCH; a controller epoch older than the newest one seen (from a
/// request, or this broker's own election) is STALE_CONTROLLER_EPOCH. A request that passes raises the newest epoch
/// seen. Per partition, a leader epoch older than the one held is refused and an equal one changes nothing unless
/// its partition epoch (the state znode's version) is newer.
/// </summary>
public sealed class ControllerRequestCheck
{
    private int _newestControllerEpoch = -1;

    /// <summary>The newest controller epoch seen so far (-1 before any).</summary>
    public int NewestControllerEpoch => Volatile.Read(ref _newestControllerEpoch);

    /// <summary>
    /// Checks a request's epochs. <paramref name="ownBrokerEpoch"/> is this broker's registration (-1 if unknown);
    /// a request's broker epoch of -1 (versions without one) is not checked, as in Kafka.
    /// </summary>
    public KafkaError Check(int controllerEpoch, long brokerEpoch, long ownBrokerEpoch, out string? why)
    {
        if (brokerEpoch >= 0 && ownBrokerEpoch >= 0 && brokerEpoch < ownBrokerEpoch)
        {
            why = $"its broker epoch {brokerEpoch} is older than this broker's registration {ownBrokerEpoch}";
            return KafkaError.StaleBrokerEpoch;
        }
        while (true)
        {
            int newest = Volatile.Read(ref _newestControllerEpoch);
            if (controllerEpoch < newest)
            {
                why = $"its controller epoch {controllerEpoch} is older than the newest seen, {newest}";
                return KafkaError.StaleControllerEpoch;
            }
            if (controllerEpoch == newest || Interlocked.CompareExchange(ref _newestControllerEpoch, controllerEpoch, newest) == newest)
            {
                why = null;
                return KafkaError.None;
            }
        }
    }

    /// <summary>This broker was elected controller with this epoch: requests from older controllers are refused from now on.</summary>
    public void Observe(int controllerEpoch)
    {
        int newest;
        while ((newest = Volatile.Read(ref _newestControllerEpoch)) < controllerEpoch
               && Interlocked.CompareExchange(ref _newestControllerEpoch, controllerEpoch, newest) != newest)
        {
        }
    }

    /// <summary>What a partition's state in a request does to the one held here.</summary>
    public enum StateOrder { Newer, Same, Older }

    /// <summary>
    /// Orders a requested partition state against the held one: by leader epoch, then (same leader epoch: an ISR
    /// change) by partition epoch. A partition with no state held (leader epoch -1) takes any.
    /// </summary>
    public static StateOrder Compare(int requestLeaderEpoch, int requestPartitionEpoch, int heldLeaderEpoch, int heldPartitionEpoch)
    {
        if (requestLeaderEpoch != heldLeaderEpoch) return requestLeaderEpoch > heldLeaderEpoch ? StateOrder.Newer : StateOrder.Older;
        return requestPartitionEpoch > heldPartitionEpoch ? StateOrder.Newer : StateOrder.Same;
    }
}
