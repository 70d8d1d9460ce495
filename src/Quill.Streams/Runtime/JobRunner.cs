namespace Quill.Streams.Runtime;

/// <summary>
/// Runs a job's stages: creates the channels, then the tasks, runs every task, and stops them all when one fails.
/// A clean stop is the sources' (at <c>stop</c>) ending their streams, which drains every later stage and flushes the
/// sinks; only then are the sources' positions committed.
/// </summary>
internal static class JobRunner
{
    public static async Task RunAsync(JobContext context, CancellationTokenSource abort, IReadOnlyList<IStage> stages, CancellationToken stop)
    {
        foreach (var stage in stages) stage.CreateChannels(context);
        var tasks = new List<IJobTask>();
        try
        {
            foreach (var stage in stages) tasks.AddRange(await stage.CreateTasksAsync(context));
        }
        catch
        {
            foreach (var task in tasks) task.Finish(completed: false);
            foreach (var resource in context.Resources) resource.Dispose();
            throw;
        }

        // Spread over processes, the coordinator (in the leader) hears from every stage's every subtask, wherever it runs.
        context.Checkpoints?.Start(context.Cluster is { } cluster ? cluster.TaskCount(stages.Count) : tasks.Count);
        using var stopCheckpoints = stop.Register(() => context.Checkpoints?.Stop());
        using var abortCheckpoints = abort.Token.Register(() => context.Checkpoints?.Stop());
        var runs = tasks.Select(task => Task.Run(async () =>
        {
            try
            {
                await task.RunAsync(stop, abort.Token);
            }
            catch
            {
                abort.Cancel();
                throw;
            }
        })).ToArray();
        try
        {
            await Task.WhenAll(runs);
        }
        catch
        {
            // The first real failure explains the job's end; the others were only stopped because of it.
        }
        bool completed = runs.All(r => r.IsCompletedSuccessfully);
        try
        {
            foreach (var task in tasks) task.Finish(completed);
        }
        finally
        {
            foreach (var resource in context.Resources) resource.Dispose();
        }
        if (completed) return;
        var failures = runs.Where(r => r.IsFaulted).SelectMany(r => r.Exception!.InnerExceptions).ToList();
        var cause = failures.FirstOrDefault(e => e is not OperationCanceledException) ?? failures.FirstOrDefault();
        if (cause is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
        throw new OperationCanceledException("the job was aborted");
    }
}
