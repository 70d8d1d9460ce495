namespace Quill.Broker.Tests.Groups;

/// <summary>A clock that moves only when the test says; due timers fire inside <see cref="Advance"/>, in time order.</summary>
public sealed class DrivenClock : TimeProvider
{
    private readonly object _lock = new();
    private readonly List<DrivenTimer> _timers = [];
    private DateTimeOffset _now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public long NowMs => GetUtcNow().ToUnixTimeMilliseconds();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new DrivenTimer(this, callback, state);
        lock (_lock) _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(long ms) => Advance(TimeSpan.FromMilliseconds(ms));

    public void Advance(TimeSpan by)
    {
        DateTimeOffset end;
        lock (_lock) end = _now + by;
        while (true)
        {
            DrivenTimer? next;
            lock (_lock)
            {
                next = _timers.Where(t => t.Due is { } due && due <= end).OrderBy(t => t.Due).FirstOrDefault();
                if (next is null) { _now = end; return; }
                _now = next.Due!.Value;
                next.Rearm();
            }
            next.Invoke();
        }
    }

    private sealed class DrivenTimer(DrivenClock clock, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period;

        public DateTimeOffset? Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                _period = period;
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
            }
            return true;
        }

        /// <summary>Called under the clock's lock when the timer fires: the next due time for a periodic timer.</summary>
        public void Rearm() => Due = _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? clock._now + _period : null;

        public void Invoke() => callback(state);

        public void Dispose()
        {
            lock (clock._lock) Due = null;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
