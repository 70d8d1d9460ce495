namespace Quill.Streams.State;

/// <summary>How fast the background cleanup of expired state goes, on either backend.</summary>
internal static class TtlCleanup
{
    /// <summary>A cleanup step every this many accesses of a state, checking this many of its entries: five per access, as Flink's default.</summary>
    public const int Every = 100, Batch = 500;
}

/// <summary>
/// Background cleanup of a state with a time to live (Flink's incremental cleanup, on by default there): expired
/// entries are otherwise removed only when their key is accessed again, so the state of keys never seen again would
/// stay for the life of the job. Every <see cref="TtlCleanup.Every"/> accesses of the state (<see cref="Due"/>), the next
/// <see cref="TtlCleanup.Batch"/> of its keys are checked (<see cref="Run"/>), walking all of them in turn, so cleanup keeps pace
/// with the rate the state is used at.
/// </summary>
/// <param name="expired">Whether a key's value has wholly expired at a time; it may drop expired parts of the value (a list's elements, a map's entries) in place.</param>
internal sealed class TtlCleanup<TKey, TValue>(Func<TValue, long, bool> expired) where TKey : notnull
{
    private int _accesses;
    private TKey[] _keys = [];
    private int _next;

    /// <summary>Counts an access; true when a cleanup step is due.</summary>
    public bool Due()
    {
        if (++_accesses < TtlCleanup.Every) return false;
        _accesses = 0;
        return true;
    }

    /// <summary>Checks the next keys of <paramref name="values"/>, removing those whose values have expired at <paramref name="now"/>.</summary>
    public void Run(Dictionary<TKey, TValue> values, long now)
    {
        bool walkedAll = false;
        for (int checkedKeys = 0; checkedKeys < TtlCleanup.Batch; checkedKeys++)
        {
            if (_next >= _keys.Length)
            {
                // At most one new walk per step, so a state with few keys is not walked over and over.
                if (walkedAll || values.Count == 0) break;
                _keys = [.. values.Keys];
                _next = 0;
                walkedAll = true;
            }
            var key = _keys[_next];
            _keys[_next++] = default!; // not kept alive by the walk
            if (values.TryGetValue(key, out var value) && expired(value, now)) values.Remove(key);
        }
    }
}
