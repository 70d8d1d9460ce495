namespace Quill.Keeper.Quorum;

/// <summary>
/// The leader's most recent committed txns, as PROPOSAL data, for syncing a learner that is a little behind with a
/// DIFF instead of a whole snapshot (ZooKeeper's committedLog). <see cref="Start"/> is the zxid just before the
/// oldest entry kept: the leader holds every committed txn after it. Bounded in count and bytes.
/// </summary>
public sealed class CommittedWindow(long start, int maxEntries = 10_000, long maxBytes = 64L << 20)
{
    private readonly Queue<(long Zxid, byte[] Data)> _entries = new();
    private long _bytes;

    public long Start { get; private set; } = start;
    public long Last { get; private set; } = start;
    public int Count => _entries.Count;

    public void Add(long zxid, byte[] data)
    {
        _entries.Enqueue((zxid, data));
        _bytes += data.Length;
        Last = zxid;
        while (_entries.Count > maxEntries || (_bytes > maxBytes && _entries.Count > 1))
        {
            var (oldest, bytes) = _entries.Dequeue();
            _bytes -= bytes.Length;
            Start = oldest;
        }
    }

    public bool Contains(long zxid) => zxid == Start || _entries.Any(e => e.Zxid == zxid);

    /// <summary>The newest zxid in the leader's history below <paramref name="zxid"/> that this window knows of.</summary>
    public long? Below(long zxid)
    {
        if (zxid <= Start) return null;
        long best = Start;
        foreach (var e in _entries)
        {
            if (e.Zxid >= zxid) break;
            best = e.Zxid;
        }
        return best;
    }

    public IEnumerable<(long Zxid, byte[] Data)> After(long zxid) => _entries.Where(e => e.Zxid > zxid);
}
