namespace Quill.Streams.Runtime;

/// <summary>
/// Runs a job's stages: creates the channels, then the tasks, runs every task, and stops them all when one fails.
/// A clean stop is the sources' (at <c>stop</c>) ending their streams, which drains every later stage and flushes the
/// sinks; only then are the sources' positions committed.
/// </summary>
internal static class JobRunner
{
    private static readonly Lock PoolLock = new();
    private static int _reserved;
    private static int _defaultMinimum = -1;

    /// <summary>
    /// Tasks block pool threads at times: a source in the Kafka client's poll (up to 100 ms each time), a sink in a
    /// flush, the coordinator in a Keeper write. With only the default minimum of one thread per core, the pool adds
    /// threads slowly (about one a second) when they are all taken, and everything else waits behind them, timers
    /// included (Keeper pings: the likely cause of a test job's session expiring on a busy machine). So the pool's
    /// minimum is raised by the tasks of the job runs in the process while they run (<paramref name="tasks"/> is
    /// positive when a run starts, negative when it ends).
    /// </summary>
    private static void ReservePoolThreads(int tasks)
    {
        lock (PoolLock)
        {
            ThreadPool.GetMinThreads(out int workers, out int io);
            if (_defaultMinimum < 0) _defaultMinimum = workers;
            _reserved += tasks;
            ThreadPool.SetMinThreads(_reserved == 0 ? _defaultMinimum : Math.Min(_defaultMinimum + Environment.ProcessorCount + _reserved, 1024), io);
        }
    }

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
        ReservePoolThreads(tasks.Count);
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
        ReservePoolThreads(-tasks.Count);
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
