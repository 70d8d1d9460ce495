using Microsoft.Extensions.Logging;
using Quill.Kafka.Protocol;

namespace Quill.Broker.Metadata;

/// <summary>How ElectLeaders asks for a partition's leader to be chosen (its election_type).</summary>
public enum ElectionType : sbyte
{
    /// <summary>Move leadership to the first replica, if it is live and in the ISR.</summary>
    Preferred = 0,
    /// <summary>Elect a leader for a partition that has none live, from outside the ISR if need be.</summary>
    Unclean = 1,
}

public sealed partial class Controller
{
    private Task? _rebalance;

    /// <summary>
    /// ElectLeaders (Kafka's ZooKeeper-mode controller, admin-triggered). For each partition: PREFERRED moves
    /// leadership to the first replica if it is live and in the ISR (ELECTION_NOT_NEEDED if it leads already,
    /// PREFERRED_LEADER_NOT_AVAILABLE otherwise); UNCLEAN elects a leader only where the current one is not live, from
    /// the live ISR members first and then from any live replica (ELECTION_NOT_NEEDED where the leader is live,
    /// ELIGIBLE_LEADERS_NOT_AVAILABLE where no replica is). A broker that is not the controller answers NOT_CONTROLLER
    /// for each.
    /// </summary>
    public Task<List<(string Topic, int Partition, AdminResult Result)>> ElectLeadersAsync(ElectionType type,
        IReadOnlyCollection<(string Topic, int Partition)> partitions, CancellationToken ct = default) =>
        _events.RunAsync(async () =>
        {
            var results = new List<(string, int, AdminResult)>(partitions.Count);
            foreach (var (topic, index) in partitions)
            {
                AdminResult result;
                try
                {
                    result = !_active ? NotController : await ElectOnLoopAsync(type, topic, index, ct);
                }
                catch (ControllerMovedException)
                {
                    OnControllerMovedOnLoop();
                    result = NotController;
                }
                results.Add((topic, index, result));
            }
            return results;
        });

    private static readonly AdminResult NotNeeded = new(KafkaError.ElectionNotNeeded, "Leader election not needed for topic partition.");

    private async Task<AdminResult> ElectOnLoopAsync(ElectionType type, string topic, int index, CancellationToken ct)
    {
        if (_cache.GetPartition(topic, index) is not { } p)
            return new(KafkaError.UnknownTopicOrPartition, "The partition does not exist.");
        var eligible = EligibleBrokerIds();
        var outcome = PreferredOutcome.NotAvailable;
        bool needed = true;
        var written = await ChangePartitionStateOnLoopAsync(topic, index, current =>
        {
            if (type == ElectionType.Preferred)
            {
                (outcome, var next) = LeaderElection.Preferred(p.Replicas, current, eligible, _controllerEpoch);
                return next;
            }
            needed = !eligible.Contains(current.Leader);
            if (!needed) return null;
            var elected = LeaderElection.Elect(p.Replicas, current, eligible, _controllerEpoch, allowUnclean: true);
            return elected is { Leader: >= 0 } ? elected : null;
        }, type == ElectionType.Preferred ? "preferred leader election" : "unclean leader election", ct);
        if (written is not null) return AdminResult.Ok;
        if (type == ElectionType.Preferred)
            return outcome == PreferredOutcome.NotNeeded ? NotNeeded
                : new(KafkaError.PreferredLeaderNotAvailable, $"Failed to elect leader for partition {topic}-{index} under strategy PreferredReplicaPartitionLeaderElectionStrategy: its preferred replica {p.Replicas.FirstOrDefault(-1)} is not live or not in the ISR.");
        return needed
            ? new(KafkaError.EligibleLeadersNotAvailable, $"Failed to elect leader for partition {topic}-{index} under strategy OfflinePartitionLeaderElectionStrategy(true): no replica is live.")
            : NotNeeded;
    }

    /// <summary>
    /// auto.leader.rebalance.enable: every leader.imbalance.check.interval.seconds the controller looks, per broker, at
    /// the partitions whose preferred (first) replica it is; when more than leader.imbalance.per.broker.percentage of
    /// them are led elsewhere, it moves those that can move back (preferred replica live, in the ISR, not shutting down).
    /// </summary>
    private void StartLeaderRebalance()
    {
        if (!_options.AutoLeaderRebalanceEnable) return;
        var interval = TimeSpan.FromSeconds(_options.LeaderImbalanceCheckIntervalSeconds);
        var ct = _stop.Token;
        _rebalance = Task.Run(async () =>
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(interval, _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (ct.IsCancellationRequested) return;
                if (_active) RunWatchWork(RebalanceLeadersOnLoopAsync);
            }
        });
    }

    private async Task RebalanceLeadersOnLoopAsync(CancellationToken ct)
    {
        if (!_active) return;
        var eligible = EligibleBrokerIds();
        var byPreferred = _cache.Topics.SelectMany(t => t.Partitions.Where(p => p.Replicas.Length > 0).Select(p => (Topic: t.Name, Partition: p)))
            .GroupBy(x => x.Partition.Replicas[0]);
        foreach (var group in byPreferred)
        {
            int broker = group.Key;
            var all = group.ToList();
            var imbalanced = all.Where(x => x.Partition.State.IsWritten && x.Partition.State.Leader != broker).ToList();
            double ratio = (double)imbalanced.Count / all.Count;
            if (imbalanced.Count == 0 || ratio * 100 <= _options.LeaderImbalancePerBrokerPercentage) continue;
            _log.LogInformation("Broker {Id} leads {Led} of the {Total} partitions it is the preferred replica of: moving them back",
                broker, all.Count - imbalanced.Count, all.Count);
            foreach (var (topic, p) in imbalanced)
            {
                if (!eligible.Contains(broker) || !p.State.Isr.Contains(broker)) continue;
                await ChangePartitionStateOnLoopAsync(topic, p.Index,
                    current => LeaderElection.Preferred(p.Replicas, current, eligible, _controllerEpoch).State, "preferred leader rebalance", ct);
            }
        }
    }
}
