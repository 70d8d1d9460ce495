namespace Quill.Streams.Time;

/// <summary>
/// The timers of one domain, by time: at most one per key and time. Deleting only forgets the timer; its queue entry is
/// skipped when it comes up.
/// </summary>
internal sealed class TimerQueue<TKey> where TKey : notnull
{
    private readonly PriorityQueue<TKey, long> _queue = new();
    private readonly HashSet<(TKey Key, long Time)> _registered = [];

    public int Count => _registered.Count;

    /// <summary>Every registered timer, for a checkpoint.</summary>
    public IEnumerable<(TKey Key, long Time)> Registered => _registered;

    public void Register(TKey key, long time)
    {
        if (_registered.Add((key, time))) _queue.Enqueue(key, time);
    }

    public void Delete(TKey key, long time) => _registered.Remove((key, time));

    /// <summary>The earliest registered timer's time, if any.</summary>
    public bool TryPeekTime(out long time)
    {
        while (_queue.TryPeek(out var key, out time))
        {
            if (_registered.Contains((key, time))) return true;
            _queue.Dequeue();
        }
        return false;
    }

    /// <summary>Takes the earliest timer due at <paramref name="now"/>.</summary>
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
