namespace Quill.Streams.Time;

/// <summary>
/// The timers of one keyed operator in one task and one time domain, by time: at most one per key and time. Where they
/// live is the state backend's choice (<see cref="State.IKeyedStateStore{TKey}.CreateTimerQueue"/>): on the heap, or with
/// the on-disk backend in its database, so that timers too can outgrow memory.
/// </summary>
internal interface ITimerQueue<TKey> where TKey : notnull
{
    /// <summary>Every registered timer, for a checkpoint.</summary>
    IEnumerable<(TKey Key, long Time)> Registered { get; }

    void Register(TKey key, long time);

    void Delete(TKey key, long time);

    /// <summary>The earliest registered timer's time, if any.</summary>
    bool TryPeekTime(out long time);

    /// <summary>Takes the earliest timer due at <paramref name="now"/>.</summary>
    bool TryTakeDue(long now, out TKey key, out long time);
}

/// <summary>Timers on the heap. Deleting only forgets the timer; its queue entry is skipped when it comes up.</summary>
internal sealed class TimerQueue<TKey> : ITimerQueue<TKey> where TKey : notnull
{
    private readonly PriorityQueue<TKey, long> _queue = new();
    private readonly HashSet<(TKey Key, long Time)> _registered = [];

    public IEnumerable<(TKey Key, long Time)> Registered => _registered;

    public void Register(TKey key, long time)
    {
        if (_registered.Add((key, time))) _queue.Enqueue(key, time);
    }

    public void Delete(TKey key, long time) => _registered.Remove((key, time));

    public bool TryPeekTime(out long time)
    {
        while (_queue.TryPeek(out var key, out time))
        {
            if (_registered.Contains((key, time))) return true;
            _queue.Dequeue();
        }
        return false;
    }

    public bool TryTakeDue(long now, out TKey key, out long time)
    {
        while (_queue.TryPeek(out key!, out time) && time <= now)
        {
            _queue.Dequeue();
            if (_registered.Remove((key, time))) return true;
        }
        key = default!;
        return false;
    }
}
