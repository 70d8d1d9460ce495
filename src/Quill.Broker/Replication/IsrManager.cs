using Microsoft.Extensions.Logging;
using Quill.Broker.Metadata;
using Quill.Broker.Partitions;
using Quill.Keeper.Protocol;

namespace Quill.Broker.Replication;

/// <summary>
/// The leader's side of the ISR in ZooKeeper mode: every replica.lag.time.max.ms / 2, and whenever a follower catches
/// up, each partition this broker leads is asked which ISR it wants (<see cref="Partition.ProposeIsr"/>); a change is
/// written into the partition's state znode by a conditional update on the version just read, and only while that
/// state still names this broker leader in the same leader epoch, so a leader the controller has replaced cannot undo
/// the controller's decision. One write at a time, on one loop.
/// <para>
/// Kafka's leaders also create /isr_change_notification/isr_change_ nodes so that the controller sends
/// UpdateMetadata to every broker. Quill's brokers have no UpdateMetadata: every broker already watches every state
/// znode, so the rewritten state reaches every broker's metadata through that watch, and no notification is written.
/// </para>
/// </summary>
public sealed class IsrManager : IAsyncDisposable
{
    private readonly KafkaZkClient _zk;
    private readonly ReplicaManager _replicas;
    private readonly BrokerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly EventLoop _loop;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _periodic;
    public Metrics.BrokerMetrics? Metrics { get; init; }

    public IsrManager(KafkaZkClient zk, ReplicaManager replicas, BrokerOptions options, TimeProvider time, ILogger log)
    {
        _zk = zk;
        _replicas = replicas;
        _options = options;
        _time = time;
        _log = log;
        _loop = new EventLoop("isr", log);
        replicas.IsrChangeWanted = Request;
        _periodic = Task.Run(() => CheckPeriodicallyAsync(_stop.Token));
    }

    /// <summary>A leader partition wants its ISR looked at (a follower caught up).</summary>
    public void Request(Partition partition)
    {
        if (!_stop.IsCancellationRequested) _loop.Post(() => CheckAsync(partition));
    }

    private async Task CheckPeriodicallyAsync(CancellationToken ct)
    {
        var interval = TimeSpan.FromMilliseconds(Math.Max(50, _options.ReplicaLagTimeMaxMs / 2));
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(interval, _time, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            foreach (var partition in _replicas.Partitions)
                if (partition.LocalBrokerId >= 0) Request(partition);
        }
    }

    private async Task CheckAsync(Partition partition)
    {
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (partition.ProposeIsr(now, _options.ReplicaLagTimeMaxMs) is not { } proposed) return;
        int epoch = partition.LeaderEpoch;
        int[]? written = null;
        int version = -1;
        try
        {
            var current = await _zk.ReadPartitionStateAsync(partition.Topic, partition.Index, null, _stop.Token);
            if (current is not null && current.Leader == partition.LocalBrokerId && current.LeaderEpoch == epoch
                && await _zk.UpdateIsrAsync(partition.Topic, partition.Index, current with { Isr = proposed }, current.ZkVersion, _stop.Token) is { } newVersion)
            {
                written = proposed;
                version = newVersion;
                Metrics?.IsrChanged(current.Isr, proposed);
                _log.LogInformation("{Partition}: ISR [{Old}] -> [{New}] (leader epoch {Epoch})", partition,
                    string.Join(",", current.Isr), string.Join(",", proposed), epoch);
            }
        }
        catch (Exception e) when (e is KeeperException or OperationCanceledException or IOException)
        {
            _log.LogWarning("{Partition}: writing the ISR failed: {Reason}", partition, e.Message);
        }
        finally
        {
            partition.IsrChangeDone(epoch, written, version);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _periodic.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _loop.DisposeAsync();
        _stop.Dispose();
    }
}
