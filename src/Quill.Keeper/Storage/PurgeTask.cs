using Microsoft.Extensions.Logging;

namespace Quill.Keeper.Storage;

/// <summary>
/// Runs <see cref="Purger.Purge"/> now and then every <c>interval</c> (zoo.cfg autopurge.purgeInterval hours,
/// autopurge.snapRetainCount), like ZooKeeper's DatadirCleanupManager. A zero interval disables it. Time
/// comes from a <see cref="TimeProvider"/> so tests drive it. A run that is still going when the next is
/// due makes that next one skip.
/// </summary>
public sealed class PurgeTask : IDisposable
{
    private readonly string _snapDir;
    private readonly string _logDir;
    private readonly int _retainCount;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ITimer? _timer;
    private int _running;
    private int _completedRuns;

    public PurgeTask(string snapDir, string logDir, int retainCount, TimeSpan interval, TimeProvider time, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        _snapDir = snapDir;
        _logDir = logDir;
        _retainCount = retainCount;
        _interval = interval;
        _time = time;
        _logger = logger;
    }

    public bool Enabled => _interval > TimeSpan.Zero;

    /// <summary>Purge runs finished so far (with or without an error).</summary>
    public int CompletedRuns => Volatile.Read(ref _completedRuns);

    public void Start()
    {
        if (!Enabled)
        {
            _logger.LogInformation("Autopurge is disabled (purge interval 0)");
            return;
        }
        if (_timer is not null) throw new InvalidOperationException("PurgeTask already started.");
        _logger.LogInformation("Autopurge every {Interval}, keeping {Count} snapshots", _interval, _retainCount);
        _timer = _time.CreateTimer(_ => Run(), null, TimeSpan.Zero, _interval);
    }

    public void Dispose() => _timer?.Dispose();

    private void Run()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1) return;
        try
        {
            Purger.Purge(_snapDir, _logDir, _retainCount, _logger);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Autopurge failed; it will try again in {Interval}", _interval);
        }
        finally
        {
            Interlocked.Increment(ref _completedRuns);
            Volatile.Write(ref _running, 0);
        }
    }
}
