using Quill.Streams.Time;
using RocksDbSharp;

namespace Quill.Streams.State.Disk;

/// <summary>
/// One operator's timers of one domain in one task, in the run's RocksDB (Flink's RocksDB timer service): an entry per
/// timer under <c>timer tag, operator, task, domain</c>, then the time (8 bytes big-endian with the sign bit flipped, so
/// entries sort by time, negative times first) and the key's JSON; the value is empty. The earliest timer is the first
/// entry of the prefix. <see cref="_lowerBound"/>, no later than any registered timer's time, answers "nothing due" without
/// reading the database, and each read seeks straight to it, past the tombstones of timers already taken.
/// </summary>
internal sealed class DiskTimerQueue<TKey>(DiskKeyedStateStore<TKey> store, string domain) : ITimerQueue<TKey> where TKey : notnull
{
    private readonly byte[] _prefix = store.PrefixOf(domain, DiskStateKeys.TimerTag);
    private readonly ReadOptions _read = new ReadOptions().SetFillCache(true);
    /// <summary>No registered timer is earlier than this (long.MaxValue: none registered).</summary>
    private long _lowerBound = long.MaxValue;

    public IEnumerable<(TKey Key, long Time)> Registered =>
        store.Scan(_prefix).Select(entry => Decode(entry.Key)); // read as enumerated: a snapshot streams them to its file

    public void Register(TKey key, long time)
    {
        store.Put(EntryKey(DiskStateKeys.Json(key), time), []);
        _lowerBound = Math.Min(_lowerBound, time);
    }

    public void Delete(TKey key, long time) => store.Remove(EntryKey(DiskStateKeys.Json(key), time));

    public bool TryPeekTime(out long time)
    {
        if (First() is { } first)
        {
            time = _lowerBound = first.Time;
            return true;
        }
        time = 0;
        return false;
    }

    public bool TryTakeDue(long now, out TKey key, out long time)
    {
        if (_lowerBound <= now && First() is { } first)
        {
            _lowerBound = first.Time;
            if (first.Time <= now)
            {
                store.Remove(first.Entry);
                (key, time) = Decode(first.Entry);
                return true;
            }
        }
        key = default!;
        time = 0;
        return false;
    }

    /// <summary>The earliest entry, read from the lower bound on; remembers when there is none.</summary>
    private (byte[] Entry, long Time)? First()
    {
        if (_lowerBound == long.MaxValue) return null;
        using var iterator = store.Db.Db.NewIterator(null, _read);
        iterator.Seek(TimePrefix(_lowerBound));
        if (!iterator.Valid() || !iterator.GetKeySpan().StartsWith(_prefix))
        {
            _lowerBound = long.MaxValue;
            return null;
        }
        var entry = iterator.Key();
        return (entry, ReadTime(entry));
    }

    /// <summary>Where a time's entries start: the prefix and the time, no key.</summary>
    private byte[] TimePrefix(long time) => EntryKey([], time);

    private byte[] EntryKey(byte[] keyJson, long time) => DiskStateKeys.TimerEntry(_prefix, keyJson, time);

    private long ReadTime(byte[] entry) => DiskStateKeys.SplitTimer(entry, _prefix.Length).Time;

    private (TKey Key, long Time) Decode(byte[] entry)
    {
        var (time, key) = DiskStateKeys.SplitTimer(entry, _prefix.Length);
        return (DiskStateKeys.FromJson<TKey>(key.Span), time);
    }
}
