namespace Quill.Broker.Groups;

/// <summary>
/// A one-shot timer that runs its callback no later than the earliest deadline it was asked for. Asking for a
/// later deadline than the one armed changes nothing: the callback re-checks what is really due and asks for
/// the next deadline itself, so a heartbeat (which only ever moves a session deadline later) costs no timer
/// change. Only used on the event loop of its owner's shard; the callback posts an event to that loop, which calls
/// <see cref="Fired"/> first. The underlying timer is created on first use, so an owner that never needs one
/// (or is thrown away by a lost race) costs nothing.
/// </summary>
internal sealed class DeadlineTimer(TimeProvider time, Action callback) : IDisposable
{
    private ITimer? _timer;
    private long _dueMs = long.MaxValue;
    private bool _disposed;

    /// <summary>Makes sure the callback runs by <paramref name="dueMs"/> (Unix ms); <see cref="long.MaxValue"/> asks for nothing.</summary>
    public void ArmBy(long dueMs)
    {
        if (_disposed || dueMs >= _dueMs) return;
        _dueMs = dueMs;
        _timer ??= CreateTimer();
        long delay = Math.Max(dueMs - time.GetUtcNow().ToUnixTimeMilliseconds(), 0);
        _timer.Change(TimeSpan.FromMilliseconds(delay), Timeout.InfiniteTimeSpan);
    }

    private ITimer CreateTimer()
    {
        // The callback must not carry the async locals of whichever request happened to arm it first.
        if (ExecutionContext.IsFlowSuppressed()) return NewTimer();
        using (ExecutionContext.SuppressFlow()) return NewTimer();
    }

    private ITimer NewTimer() =>
        time.CreateTimer(static state => ((Action)state!)(), callback, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>The callback started: nothing is armed any more until it asks again.</summary>
    public void Fired() => _dueMs = long.MaxValue;

    public void Dispose()
    {
        _disposed = true;
        _dueMs = long.MaxValue;
        _timer?.Dispose();
        _timer = null;
    }
}
