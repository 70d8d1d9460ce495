using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;
using Quill.Keeper.Protocol;

namespace Quill.Broker.Metadata;

public sealed partial class Controller
{
    /// <summary>
    /// Brokers that asked for a controlled shutdown and are still registered (Kafka's shuttingDownBrokerIds): no
    /// election picks them. Only touched on the loop; a broker leaves the set when its registration goes.
    /// </summary>
    private readonly HashSet<int> _shuttingDown = [];

    /// <summary>
    /// ControlledShutdown (Kafka's ZooKeeper-mode controller): broker <paramref name="brokerId"/> is about to stop.
    /// Every partition it leads that has another replica gets a new leader from the ISR (see
    /// <see cref="LeaderElection.ControlledShutdown"/>), and it leaves the ISR of the partitions it follows, each state
    /// written as the other elections are (fenced, conditional on the version read). Answers the partitions it still
    /// leads (no other live ISR member could take them): the broker tries again, or stops anyway.
    /// </summary>
    public Task<(KafkaError Error, List<(string Topic, int Partition)> Remaining)> ControlledShutdownAsync(int brokerId, CancellationToken ct = default) =>
        _events.RunAsync<(KafkaError, List<(string, int)>)>(async () =>
        {
            if (!_active) return (KafkaError.NotController, []);
            if (brokerId != BrokerId && !_cache.IsLive(brokerId))
            {
                _log.LogWarning("Broker {Id} asked for a controlled shutdown but is not registered", brokerId);
                return (KafkaError.BrokerNotAvailable, []);
            }
            if (_shuttingDown.Add(brokerId)) _log.LogInformation("Broker {Id} is shutting down: moving its leaderships away", brokerId);
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
    private HashSet<int> EligibleBrokerIds() => [.. LiveBrokerIds().Where(id => !_shuttingDown.Contains(id))];

    /// <summary>A broker whose registration is gone has finished shutting down (or died): forget it.</summary>
    private void ForgetStoppedBrokersOnLoop()
    {
        _shuttingDown.RemoveWhere(id => id != BrokerId && !_cache.IsLive(id));
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
