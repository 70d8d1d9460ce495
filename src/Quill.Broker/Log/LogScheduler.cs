using Microsoft.Extensions.Logging;

namespace Quill.Broker.Log;

/// <summary>
/// Runs the broker's periodic log work (retention, flush.ms, recovery-point checkpoints, the log cleaner) on the
/// broker's clock, each job on its own interval and on its own: a job never waits behind another (a long compaction
/// pass holds up no flush or checkpoint), as in Kafka, whose KafkaScheduler is a thread pool (background.threads) and
/// whose log cleaner has threads of its own. A job never overlaps itself: each has a one-shot timer, armed again
/// when a run ends, and a job that overruns its interval skips the runs it missed rather than running back to back.
/// The jobs' work is thread-safe (the logs lock what they change). A failing job is logged and runs again at its
/// next interval.
/// </summary>
public sealed class LogScheduler(TimeProvider time, ILogger log) : IAsyncDisposable
{
    private sealed class Job(string name, TimeSpan interval, Action work)
    {
        public string Name { get; } = name;
        public TimeSpan Interval { get; } = interval;
        public Action Work { get; } = work;
        public DateTimeOffset NextRun { get; set; }
        public ITimer? Timer { get; set; }
        /// <summary>Held while the job runs, so stopping can wait for a run in progress.</summary>
        public SemaphoreSlim Running { get; } = new(1, 1);
    }

    private readonly List<Job> _jobs = [];
    private readonly object _timerLock = new();
    private bool _started;
    private bool _stopped;

    /// <summary>Adds a job run every <paramref name="intervalMs"/>; a non-positive (or int.MaxValue and up) interval means never.</summary>
    public void Schedule(string name, long intervalMs, Action work)
    {
        if (_started) throw new InvalidOperationException("jobs are scheduled before the scheduler starts");
        if (intervalMs is <= 0 or >= int.MaxValue) return;
        _jobs.Add(new Job(name, TimeSpan.FromMilliseconds(intervalMs), work));
    }

    /// <summary>Starts the clock: each job first runs one interval from now.</summary>
    public void Start()
    {
        _started = true;
        var now = time.GetUtcNow();
        foreach (var job in _jobs)
        {
            job.NextRun = now + job.Interval;
            Arm(job, now);
        }
    }

    private void Run(Job job)
    {
        job.Running.Wait();
        try
        {
            if (Volatile.Read(ref _stopped)) return;
            try
            {
                job.Work();
            }
            catch (Exception e)
            {
                log.LogError(e, "{Job} failed", job.Name);
            }
            var now = time.GetUtcNow();
            while (job.NextRun <= now) job.NextRun += job.Interval;
            Arm(job, now);
        }
        finally
        {
            job.Running.Release();
        }
    }

    /// <summary>A fresh one-shot timer for the job's next run (never re-arming the one that is firing).</summary>
    private void Arm(Job job, DateTimeOffset now)
    {
        lock (_timerLock)
        {
            job.Timer?.Dispose();
            job.Timer = null;
            if (_stopped) return;
            var delay = job.NextRun - now;
            if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
            // Jobs must not carry the async locals of whoever started the scheduler.
            using (ExecutionContext.SuppressFlow())
                job.Timer = time.CreateTimer(_ => Run(job), null, delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the timers and waits for the jobs still running, so the logs can be closed after.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_timerLock)
        {
            _stopped = true;
            foreach (var job in _jobs)
            {
                job.Timer?.Dispose();
                job.Timer = null;
            }
        }
        foreach (var job in _jobs)
        {
            await job.Running.WaitAsync().ConfigureAwait(false);
            job.Running.Release();
        }
    }
}
