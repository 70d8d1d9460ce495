using RocksDbSharp;

namespace Quill.Streams.State.Disk;

/// <summary>
/// The background cleanup of a state with a time to live on disk (<see cref="TtlCleanup"/> for the heap): every
/// <see cref="TtlCleanup.Every"/> accesses, the next <see cref="TtlCleanup.Batch"/> entries under the state's prefix are
/// checked, a cursor walking them in key order and starting over at the end. On the task's thread, like every other
/// write of the state, so it never races with one.
/// </summary>
/// <param name="live">What is left of a stored value at a time: the same array (kept as it is), another (written instead), or null (removed).</param>
internal sealed class DiskTtlCleanup<TKey>(DiskKeyedStateStore<TKey> store, byte[] prefix, Func<byte[], long, byte[]?> live) where TKey : notnull
{
    private int _accesses;
    /// <summary>Where the next step starts (null: at the prefix's first entry).</summary>
    private byte[]? _cursor;

    public void OnAccess()
    {
        if (++_accesses < TtlCleanup.Every) return;
        _accesses = 0;
        long now = store.Now;
        using var batch = new WriteBatch();
        int checkedEntries = 0;
        byte[]? next = null;
        foreach (var (key, value) in store.Scan(prefix, from: _cursor))
        {
            if (checkedEntries++ == TtlCleanup.Batch)
            {
                next = key;
                break;
            }
            var kept = live(value, now);
            if (kept is null) batch.Delete(key);
            else if (!ReferenceEquals(kept, value)) batch.Put(key, kept);
        }
        _cursor = next;
        if (batch.Count() > 0) store.Db.Db.Write(batch, store.Db.Write);
    }
}
