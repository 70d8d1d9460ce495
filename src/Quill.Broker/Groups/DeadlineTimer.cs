namespace Quill.Broker.Groups;

/// <summary>
/// A one-shot timer that runs its callback no later than the earliest deadline it was asked for. Asking for a
/// later deadline than the one armed changes nothing: the callback re-checks what is really due and asks for
/// the next deadline itself, so a heartbeat (which only ever moves a session deadline later) costs no timer
/// change. Only used on the event loop of its owner's shard; the callback posts an event to that loop, which calls
/// <see cref="Fired"/> first. An owner that never needs a deadline costs no timer. The callback is told the
/// deadline it fired for, so its owner judges what is due as of that moment, however long the event then waits on
/// the owner's loop.
/// </summary>
internal sealed class DeadlineTimer(TimeProvider time, Action<long> callback) : IDisposable
{
    private ITimer? _timer;
    private long _dueMs = long.MaxValue;
    private bool _disposed;

    /// <summary>Makes sure the callback runs by <paramref name="dueMs"/> (Unix ms); <see cref="long.MaxValue"/> asks for nothing.</summary>
    public void ArmBy(long dueMs)
    {
        if (_disposed || dueMs >= _dueMs) return;
        _dueMs = dueMs;
        // A fresh timer per arming: re-arming the one that just fired could race its provider finishing it.
        _timer?.Dispose();
        _timer = null;
        long delay = dueMs - time.GetUtcNow().ToUnixTimeMilliseconds();
        if (delay <= 0)
        {
            callback(dueMs); // already due: the owner hears of it at once (its loop runs it after what is queued)
            return;
        }
        // The callback must not carry the async locals of whichever request happened to arm it.
        if (ExecutionContext.IsFlowSuppressed()) _timer = NewTimer(dueMs, delay);
        else
            using (ExecutionContext.SuppressFlow()) _timer = NewTimer(dueMs, delay);
    }

    private ITimer NewTimer(long dueMs, long delayMs) =>
        time.CreateTimer(_ => callback(dueMs), null, TimeSpan.FromMilliseconds(delayMs), Timeout.InfiniteTimeSpan);

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
