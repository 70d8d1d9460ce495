using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;
using Quill.Keeper.Protocol;

namespace Quill.Broker.Metadata;

public sealed partial class Controller
{
    /// <summary>
    /// Brokers that asked for a controlled shutdown and are still registered (Kafka's shuttingDownBrokerIds), with the
    /// broker epoch of that registration: no election picks them. Only touched on the loop; a broker leaves the set
    /// when that registration goes (a broker that stopped and registered again at once has a new epoch).
    /// </summary>
    private readonly Dictionary<int, long> _shuttingDown = [];

    /// <summary>
    /// ControlledShutdown (Kafka's ZooKeeper-mode controller): broker <paramref name="brokerId"/> is about to stop.
    /// Every partition it leads that has another replica gets a new leader from the ISR (see
    /// <see cref="LeaderElection.ControlledShutdown"/>), and it leaves the ISR of the partitions it follows, each state
    /// written as the other elections are (fenced, conditional on the version read). Answers the partitions it still
    /// leads (no other live ISR member could take them): the broker tries again, or stops anyway.
    /// </summary>
    /// <param name="brokerEpoch">The epoch of the registration the broker asks for (-1: unknown, not checked); an older one
    /// than registered now is STALE_BROKER_EPOCH, as in Kafka.</param>
    public Task<(KafkaError Error, List<(string Topic, int Partition)> Remaining)> ControlledShutdownAsync(int brokerId, long brokerEpoch = -1,
        CancellationToken ct = default) =>
        _events.RunAsync<(KafkaError, List<(string, int)>)>(async () =>
        {
            if (!_active) return (KafkaError.NotController, []);
            if (brokerId != BrokerId && !_cache.IsLive(brokerId))
            {
                _log.LogWarning("Broker {Id} asked for a controlled shutdown but is not registered", brokerId);
                return (KafkaError.BrokerNotAvailable, []);
            }
            long registered = _cache.Brokers.FirstOrDefault(b => b.Id == brokerId)?.Epoch ?? -1;
            if (brokerEpoch >= 0 && registered >= 0 && brokerEpoch < registered)
            {
                _log.LogWarning("Broker {Id} asked for a controlled shutdown with epoch {Epoch}, older than its registration's {Registered}",
                    brokerId, brokerEpoch, registered);
                return (KafkaError.StaleBrokerEpoch, []);
            }
            if (_shuttingDown.TryAdd(brokerId, registered)) _log.LogInformation("Broker {Id} is shutting down: moving its leaderships away", brokerId);
            var eligible = EligibleBrokerIds();
            try
            {
                foreach (var topic in _cache.Topics.ToList())
                    foreach (var p in topic.Partitions.Where(p => p.Replicas.Length > 1 && p.Replicas.Contains(brokerId)))
                        await ChangePartitionStateOnLoopAsync(topic.Name, p.Index,
                            current => LeaderElection.ControlledShutdown(p.Replicas, current, brokerId, eligible, _controllerEpoch),
                            "controlled shutdown of broker " + brokerId, ct);
            }
            catch (ControllerMovedException)
            {
                OnControllerMovedOnLoop();
                return (KafkaError.NotController, []);
            }
            var remaining = _cache.Topics.SelectMany(t => t.Partitions
                .Where(p => p.State.Leader == brokerId && p.Replicas.Length > 1).Select(p => (t.Name, p.Index))).ToList();
            _log.LogInformation("Controlled shutdown of broker {Id}: {Count} partition(s) still led by it", brokerId, remaining.Count);
            return (KafkaError.None, remaining);
        });

    /// <summary>The brokers an election may pick: registered (this one included) and not shutting down.</summary>
    private HashSet<int> EligibleBrokerIds() => [.. LiveBrokerIds().Where(id => !_shuttingDown.ContainsKey(id))];

    /// <summary>A broker whose registration is gone (or replaced by a new one) has finished shutting down, or died: forget it.</summary>
    private void ForgetStoppedBrokersOnLoop()
    {
        foreach (var (id, epoch) in _shuttingDown.ToList())
            if (id != BrokerId && !_cache.Brokers.Any(b => b.Id == id && b.Epoch == epoch)) _shuttingDown.Remove(id);
    }

    /// <summary>
    /// Reads a partition's state node, asks <paramref name="decide"/> for the new state (null: none), and writes it
    /// fenced and conditional on the version read; a concurrent change (the leader's ISR write) makes it decide again
    /// on what is there now. Returns the state written, or null.
    /// </summary>
    private async Task<PartitionState?> ChangePartitionStateOnLoopAsync(string topic, int index, Func<PartitionState, PartitionState?> decide,
        string why, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (await _zk.ReadPartitionStateAsync(topic, index, null, ct) is not { } current) return null;
            if (decide(current) is not { } next) return null;
            try
            {
                await _zk.SetPartitionStateAsync(topic, index, next, _epochZkVersion, ct, current.ZkVersion);
            }
            catch (KeeperException e) when (e.Code == ErrorCode.BadVersion && attempt < 5)
            {
                continue;
            }
            _log.LogInformation("{Topic}-{Partition}: {Why}: leader {Old} -> {New} (leader epoch {Epoch}, ISR [{Isr}])", topic, index, why,
                current.Leader, next.Leader, next.LeaderEpoch, string.Join(",", next.Isr));
            var written = next with { ZkVersion = current.ZkVersion + 1 };
            SetPartitionStateOnLoop(topic, index, written);
            return written;
        }
    }
}
