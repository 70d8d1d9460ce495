using System.Text.Json;
using Quill.Keeper.Client;
using Quill.Streams.Checkpoints;
using Quill.Streams.HighAvailability;

namespace Quill.Streams.Cluster;

/// <summary>
/// One generation as the leader runs it (Flink's JobManager in reactive mode): it assigns the subtasks over the
/// instances that answer, writes the assignment, serves the followers' control connections, and watches the
/// instances: one joining, or an assigned one leaving, ends the generation, and the leader starts the next from the
/// newest checkpoint.
/// </summary>
internal sealed class LeaderGeneration(KeeperHaServices ha, DataEndpoint endpoint, int parallelism, int mailboxCapacity,
    IReadOnlyList<(string Instance, string? Endpoint)> candidates, IReadOnlyList<(string Instance, string? Endpoint)> members, Action<string>? log)
{
    /// <summary>How long a follower has to connect its control connection once the generation is written.</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Why the generation ended, if the instances changed; null otherwise.</summary>
    public string? MembershipChange { get; private set; }

    public ClusterRun? Run { get; private set; }

    /// <summary>The live instances that take subtasks (an endpoint in their info znode), by id.</summary>
    public static async Task<List<(string Instance, string? Endpoint)>> CandidatesAsync(KeeperHaServices ha, Action<WatchedEvent>? watch, CancellationToken cancellationToken)
    {
        var children = await KeeperRetry.IdempotentAsync(() => ha.Client.GetChildrenAsync(ha.Paths.Instances, watch, cancellationToken));
        var result = new List<(string, string?)>();
        foreach (string child in children.Order(StringComparer.Ordinal))
        {
            try
            {
                var node = await ha.Client.GetDataAsync($"{ha.Paths.Instances}/{child}", cancellationToken: cancellationToken);
                var info = JsonSerializer.Deserialize<InstanceInfo>(node.Data, InstanceInfo.Json);
                if (info?.Endpoint is { } address) result.Add((child, address));
            }
            catch (Quill.Keeper.Protocol.KeeperException e) when (e.Code == Quill.Keeper.Protocol.ErrorCode.NoNode)
            {
                // Gone since the listing.
            }
            catch (JsonException)
            {
            }
        }
        return result;
    }

    /// <summary>
    /// Called by the leader's run once it knows the checkpoint it restores: writes this generation's assignment and
    /// opens its connections. The coordinator gets each follower as a barrier source; under exactly-once the followers'
    /// sink tasks write into <paramref name="output"/>.
    /// </summary>
    public async Task<ClusterRun> BeginAsync(string? checkpoint, CheckpointCoordinator checkpoints, CancellationTokenSource abort, CancellationToken cancellationToken,
        Connectors.Kafka.ExactlyOnceOutput? output = null)
    {
        var assignment = await AssignmentZnode.WriteNextAsync(ha,
            generation => Assignment.Compute(generation, parallelism, ha.InstanceId, checkpoint, members), cancellationToken);
        var run = new ClusterRun(assignment, ha.InstanceId, endpoint, mailboxCapacity, abort);
        if (run.HasRemote) run.Control = new LeaderControl(run, checkpoints, ReadyTimeout);
        run.Output = output;
        run.Listen();
        Run = run;
        log?.Invoke($"instance {ha.InstanceId}: generation {assignment.Generation} from {checkpoint ?? "the start"}: "
            + string.Join("; ", assignment.Instances.Select(i => $"{i.Instance} runs subtasks {string.Join(",", i.Subtasks)}")));
        _ = Task.Run(() => WatchInstancesAsync(run, abort.Token), CancellationToken.None);
        return run;
    }

    /// <summary>Fails the generation when an instance joins, or an assigned one leaves (its info znode goes with its session).</summary>
    private async Task WatchInstancesAsync(ClusterRun run, CancellationToken abort)
    {
        var assigned = run.Assignment.Instances.Select(i => i.Instance).ToHashSet(StringComparer.Ordinal);
        var known = candidates.Select(c => c.Instance).ToHashSet(StringComparer.Ordinal);
        while (!abort.IsCancellationRequested)
        {
            var changed = new KeeperWatch();
            try
            {
                var now = (await CandidatesAsync(ha, changed, abort)).Select(c => c.Instance).ToHashSet(StringComparer.Ordinal);
                var joined = now.Except(known).ToList();
                var left = assigned.Except(now).ToList();
                if (joined.Count > 0 || left.Count > 0)
                {
                    MembershipChange = string.Join("; ", new[]
                    {
                        joined.Count > 0 ? $"{string.Join(", ", joined)} joined" : null,
                        left.Count > 0 ? $"{string.Join(", ", left)} left" : null,
                    }.Where(s => s is not null));
                    run.Fail(new InvalidOperationException($"the instances changed ({MembershipChange})"));
                    return;
                }
                await changed.Fired.WaitAsync(abort);
            }
            catch (Exception) when (abort.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Quill.Keeper.Protocol.KeeperException or ObjectDisposedException)
            {
                if (ha.Lost.IsCancellationRequested) return;
                await Task.Delay(200, CancellationToken.None);
            }
            catch (Exception e)
            {
                // Without the watch a join or a leave would go unnoticed: end the generation, the next one watches anew.
                run.Fail(new InvalidOperationException($"watching the instances failed: {e.Message}", e));
                return;
            }
        }
    }
}
