using Quill.Streams.Api;
using Quill.Streams.Checkpoints;
using Quill.Streams.Runtime;

namespace Quill.Streams.Cluster;

/// <summary>
/// A follower's part of one generation: its subtasks of every stage, restored from the generation's checkpoint, with a
/// checkpoint coordinator that only relays (to the leader, over the control connection). It runs until the next
/// generation replaces it, or something fails here (reported to the leader, which then starts the next one).
/// </summary>
internal sealed class FollowerGeneration
{
    private readonly CancellationTokenSource _abort = new();
    private volatile bool _superseded;
    private LeaderLink? _link;

    public FollowerGeneration(Assignment assignment, string instanceId, DataEndpoint endpoint, StreamJobOptions options, IReadOnlyList<IStage> stages,
        OperatorNames names, Action<string>? log)
    {
        Completion = Task.Run(async () =>
        {
            try
            {
                await RunAsync(assignment, instanceId, endpoint, options, stages, names);
            }
            catch (Exception e) when (!_superseded)
            {
                log?.Invoke($"instance {instanceId}: its part of generation {assignment.Generation} ended ({e.Message}); waiting for the next");
            }
            catch (Exception)
            {
                // Replaced by the next generation: the abort is what ended it.
            }
        });
    }

    /// <summary>Completes when this part has ended (it never fails).</summary>
    public Task Completion { get; }

    private async Task RunAsync(Assignment assignment, string instanceId, DataEndpoint endpoint, StreamJobOptions options, IReadOnlyList<IStage> stages,
        OperatorNames names)
    {
        using var run = new ClusterRun(assignment, instanceId, endpoint, options.MailboxCapacity, _abort);
        run.Listen();
        LeaderLink? link = null;
        CheckpointCoordinator? checkpoints = null;
        try
        {
            link = await LeaderLink.ConnectAsync(run, _abort.Token);
            Volatile.Write(ref _link, link);
            if (_superseded) link.Dispose();
            var stored = assignment.Checkpoint is { } path ? await Task.Run(() => Savepoints.Read(path)) : null;
            var restored = stored is null ? null : names.ToRunning(stored, options.AllowNonRestoredState, $"checkpoint {assignment.Checkpoint}");
            checkpoints = new CheckpointCoordinator(null, options.CheckpointInterval, options.TimeProvider, restored, names: names, jobName: options.JobName);
            checkpoints.Relay = link;
            link.Start(run, checkpoints, _abort.Token);
            // Exactly-once: the sink tasks here write through the leader, into the job's one transaction per checkpoint.
            var output = options.ExactlyOnce ? Connectors.Kafka.ExactlyOnceOutput.Forwarding(run.OpenSinkForwarder) : null;
            var context = new JobContext(options, _abort.Token, checkpoints, output) { Cluster = run };
            // No clean stop here: a follower's part ends when its generation does (the job's stop aborts it).
            await JobRunner.RunAsync(context, _abort, stages, CancellationToken.None);
        }
        catch (Exception e) when (!_superseded)
        {
            link?.ReportFailure(run.Failure ?? e);
            if (run.Failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            throw;
        }
        finally
        {
            checkpoints?.Dispose();
        }
    }

    /// <summary>Ends this part (the next generation replaces it, or the instance stops) and waits until it has.</summary>
    public async Task StopAsync()
    {
        _superseded = true;
        await _abort.CancelAsync();
        // A task blocked writing to a leader that stopped reading (gone without a reset) does not see the abort: closing
        // the connection ends its write.
        Volatile.Read(ref _link)?.Dispose();
        await Completion;
    }
}
