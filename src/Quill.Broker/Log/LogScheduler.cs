using Microsoft.Extensions.Logging;

namespace Quill.Broker.Log;

/// <summary>
/// Runs the broker's periodic log work (flush.ms, recovery-point checkpoints, retention and compaction) on one
/// schedule of the broker's clock, as Kafka's KafkaScheduler does for its log manager: each job on its own interval,
/// and never two at once, so a flush never races a checkpoint or a compaction pass. One one-shot timer is armed for
/// the next job due; when it fires, the jobs due run one after another and the timer is armed again. A job that
/// overruns its interval skips the runs it missed rather than running back to back. A failing job is logged.
/// </summary>
public sealed class LogScheduler(TimeProvider time, ILogger log) : IAsyncDisposable
{
    private sealed class Job(string name, TimeSpan interval, Action work)
    {
        public string Name { get; } = name;
        public TimeSpan Interval { get; } = interval;
        public Action Work { get; } = work;
        public DateTimeOffset NextRun { get; set; }
    }

    private readonly List<Job> _jobs = [];
    private readonly SemaphoreSlim _running = new(1, 1);
    private readonly object _timerLock = new();
    private ITimer? _timer;
    private bool _stopped;

    /// <summary>Adds a job run every <paramref name="intervalMs"/>; a non-positive (or int.MaxValue and up) interval means never.</summary>
    public void Schedule(string name, long intervalMs, Action work)
    {
        if (_timer is not null) throw new InvalidOperationException("jobs are scheduled before the scheduler starts");
        if (intervalMs is <= 0 or >= int.MaxValue) return;
        _jobs.Add(new Job(name, TimeSpan.FromMilliseconds(intervalMs), work));
    }

    /// <summary>Starts the clock: each job first runs one interval from now.</summary>
    public void Start()
    {
        var now = time.GetUtcNow();
        foreach (var job in _jobs) job.NextRun = now + job.Interval;
        Arm(now);
    }

    private void OnTimer()
    {
        _running.Wait();
        try
        {
            var now = time.GetUtcNow();
            foreach (var job in _jobs.Where(j => j.NextRun <= now).OrderBy(j => j.NextRun).ToList())
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
                while (job.NextRun <= now) job.NextRun += job.Interval;
            }
        }
        finally
        {
            _running.Release();
        }
        Arm(time.GetUtcNow());
    }

    /// <summary>A fresh one-shot timer for the next job due (never re-arming the one that is firing).</summary>
    private void Arm(DateTimeOffset now)
    {
        lock (_timerLock)
        {
            _timer?.Dispose();
            _timer = null;
            if (_stopped || _jobs.Count == 0) return;
            var delay = _jobs.Min(j => j.NextRun) - now;
            if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
            // Jobs must not carry the async locals of whoever started the scheduler.
            using (ExecutionContext.SuppressFlow())
                _timer = time.CreateTimer(_ => OnTimer(), null, delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the timer and waits for a job still running, so the logs can be closed after.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_timerLock)
        {
            _stopped = true;
            _timer?.Dispose();
            _timer = null;
        }
        await _running.WaitAsync().ConfigureAwait(false);
        _running.Release();
    }
}
