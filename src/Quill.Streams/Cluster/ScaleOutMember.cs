using Quill.Keeper.Client;
using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.HighAvailability;
using Quill.Streams.Runtime;

namespace Quill.Streams.Cluster;

/// <summary>
/// One instance of a scaled-out job, for one Keeper session. Every instance follows the assignment znode and runs
/// the subtasks it is given in each new generation (restoring them from the generation's checkpoint, reporting to the
/// leader over a control connection); the instance that wins the election also leads: it runs generation after
/// generation (<see cref="LeaderGeneration"/>), each through the job's ordinary leader run (the checkpoint coordinator,
/// the restore, the id counter), a new one whenever the instances change or a generation fails.
/// </summary>
internal sealed class ScaleOutMember(KeeperHaServices ha, DataEndpoint endpoint, StreamJobOptions options, IReadOnlyList<IStage> stages,
    OperatorNames names, Func<LeaderGeneration, CancellationToken, Task> runAsLeader)
{
    /// <summary>Generations in a row that may fail, each soon after it started, before the job fails.</summary>
    private const int MaxQuickFailures = 10;
    private readonly Action<string>? _log = options.HighAvailability!.Log;
    /// <summary>Set once this instance leads: its follower part (if any) must stop before it runs a generation of its own.</summary>
    private readonly TaskCompletionSource _leading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Set once the follower part has stopped for good (this instance leads, or the session ended).</summary>
    private readonly TaskCompletionSource _followingStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Runs until <paramref name="stop"/> (returns) or the session is lost (throws); fails if the job keeps failing.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop, ha.Lost);
        var follow = Task.Run(() => FollowAsync(session.Token), CancellationToken.None);
        var lead = Task.Run(() => LeadAsync(stop, session.Token), CancellationToken.None);
        var first = await Task.WhenAny(follow, lead);
        await session.CancelAsync();
        try
        {
            await Task.WhenAll(follow, lead);
        }
        catch (Exception)
        {
            // Observed below: the one that ended first says why.
        }
        if (stop.IsCancellationRequested) return;
        if (ha.Lost.IsCancellationRequested) throw new OperationCanceledException($"the Keeper session was lost ({ha.LostReason})", ha.Lost);
        await first; // the failure that ended the instance
    }

    private async Task LeadAsync(CancellationToken stop, CancellationToken session)
    {
        await ha.AwaitLeadershipAsync(session);
        _log?.Invoke($"instance {ha.InstanceId} of job {ha.Paths.JobId}: leader");
        // The part of the old leader's generation this instance ran must be gone before the same subtasks start again
        // here (two consumers of one partition; two runs of one state directory).
        _leading.TrySetResult();
        await _followingStopped.Task.WaitAsync(session);
        int quickFailures = 0;
        while (true)
        {
            session.ThrowIfCancellationRequested();
            var candidates = await LeaderGeneration.CandidatesAsync(ha, null, session);
            var members = new List<(string Instance, string? Endpoint)>();
            foreach (var candidate in candidates)
            {
                if (candidate.Instance == ha.InstanceId || await DataEndpoint.ProbeAsync(candidate.Endpoint!, TimeSpan.FromSeconds(2))) members.Add(candidate);
                else _log?.Invoke($"instance {ha.InstanceId}: {candidate.Instance} does not answer at {candidate.Endpoint}; left out");
            }
            if (!members.Any(m => m.Instance == ha.InstanceId)) members.Add((ha.InstanceId, endpoint.Address));
            var generation = new LeaderGeneration(ha, endpoint, options.Parallelism, options.MailboxCapacity, candidates, members, _log);
            var started = DateTime.UtcNow;
            try
            {
                await runAsLeader(generation, stop);
                return; // a clean stop
            }
            catch (Exception e) when (!stop.IsCancellationRequested && !ha.Lost.IsCancellationRequested)
            {
                var cause = generation.Run?.Failure ?? e;
                _log?.Invoke($"instance {ha.InstanceId}: generation {generation.Run?.Generation} ended ({cause.Message}); assigning again");
                if (generation.MembershipChange is not null) continue;
                quickFailures = DateTime.UtcNow - started > TimeSpan.FromSeconds(30) ? 1 : quickFailures + 1;
                if (quickFailures > MaxQuickFailures) throw;
                await Task.Delay(TimeSpan.FromMilliseconds(500 * quickFailures), session);
            }
        }
    }

    /// <summary>Runs this instance's subtasks of each new generation led by another instance.</summary>
    private async Task FollowAsync(CancellationToken session)
    {
        long current = 0;
        FollowerGeneration? running = null;
        try
        {
            while (!session.IsCancellationRequested && !_leading.Task.IsCompleted)
            {
                var changed = new KeeperWatch();
                Assignment? assignment;
                try
                {
                    assignment = await AssignmentZnode.ReadAsync(ha.Client, ha.Paths, changed, session);
                }
                catch (Quill.Keeper.Protocol.KeeperException) when (!ha.Lost.IsCancellationRequested)
                {
                    await Task.Delay(200, session);
                    continue;
                }
                if (assignment is not null && assignment.Generation > current)
                {
                    current = assignment.Generation;
                    if (running is not null) await running.StopAsync();
                    running = null;
                    if (assignment.Leader != ha.InstanceId && assignment.Of(ha.InstanceId) is { } mine)
                    {
                        _log?.Invoke($"instance {ha.InstanceId}: generation {current} led by {assignment.Leader}: subtasks {string.Join(",", mine.Subtasks)}");
                        running = new FollowerGeneration(assignment, ha.InstanceId, endpoint, options, stages, names, _log);
                    }
                }
                // A new assignment, or this instance's part failing (it then waits for the leader's next generation).
                var ended = running is { Completion.IsCompleted: false } ? running.Completion : Task.Delay(Timeout.Infinite, session);
                await Task.WhenAny(changed.Fired, ended, _leading.Task).WaitAsync(session);
            }
            if (running is not null) await running.StopAsync();
            running = null;
            _followingStopped.TrySetResult();
            await Task.Delay(Timeout.Infinite, session); // leading now: the follower part ends with the session
        }
        finally
        {
            if (running is not null) await running.StopAsync();
            _followingStopped.TrySetResult();
        }
    }
}
