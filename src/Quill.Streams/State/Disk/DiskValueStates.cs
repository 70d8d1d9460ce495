using System.Text.Json;
using Quill.Streams.Checkpoints;
using RocksDbSharp;

namespace Quill.Streams.State.Disk;

/// <summary>What the single-value states share: one database entry per key, under the state's prefix.</summary>
internal abstract class DiskSingleValueState<TKey, TStored>(DiskKeyedStateStore<TKey> store, string name) : IDiskState where TKey : notnull
{
    protected readonly DiskKeyedStateStore<TKey> Store = store;
    private readonly byte[] _prefix = store.PrefixOf(name);

    protected byte[] CurrentEntry => DiskStateKeys.Entry(_prefix, Store.CurrentKeyJson);

    protected bool TryLoad(byte[] entry, out TStored value)
    {
        var bytes = Store.Get(entry);
        value = bytes is null ? default! : DiskStateKeys.FromJson<TStored>(bytes);
        return bytes is not null;
    }

    protected void Save(byte[] entry, TStored value) => Store.Put(entry, DiskStateKeys.Json(value));

    public void Clear() => Store.Remove(CurrentEntry);

    /// <summary>What a snapshot holds of a stored value: all of it, or what has not expired at <paramref name="now"/> (null: nothing).</summary>
    protected virtual JsonElement? LiveValue(byte[] value, long now) => DiskStateKeys.Element(value);

    public IEnumerable<JsonElement[]> Snapshot(ReadOptions? read, long now)
    {
        foreach (var (key, value) in Store.Scan(_prefix, read))
            if (LiveValue(value, now) is { } live) yield return [DiskStateKeys.Element(DiskStateKeys.Split(key, _prefix.Length).Key.Span), live];
    }

    /// <summary>Re-encoded through the type, so the stored JSON is what this backend itself writes.</summary>
    public void Restore(byte[] keyJson, JsonElement value) => Save(DiskStateKeys.Entry(_prefix, keyJson), StateJson.Read<TStored>(value));
}

internal sealed class DiskValueState<TKey, T>(DiskKeyedStateStore<TKey> store, string name)
    : DiskSingleValueState<TKey, T>(store, name), IValueState<T> where TKey : notnull
{
    public bool HasValue => Store.Get(CurrentEntry) is not null;

    public T? Value
    {
        get => TryLoad(CurrentEntry, out var value) ? value : default;
        set => Save(CurrentEntry, value!);
    }
}

internal sealed class DiskReducingState<TKey, T>(DiskKeyedStateStore<TKey> store, string name, Func<T, T, T> reduce)
    : DiskSingleValueState<TKey, T>(store, name), IReducingState<T> where TKey : notnull
{
    public bool HasValue => Store.Get(CurrentEntry) is not null;
    public T? Value => TryLoad(CurrentEntry, out var value) ? value : default;

    public void Add(T value)
    {
        var entry = CurrentEntry;
        Save(entry, TryLoad(entry, out var current) ? reduce(current, value) : value);
    }
}

/// <summary>
/// One value per key with a time to live, what the value and reducing states with one share: stored with its write
/// time, as the in-memory ones checkpoint it; an expired value reads as none and is removed.
/// </summary>
internal abstract class DiskTtlSingleValueState<TKey, T>(DiskKeyedStateStore<TKey> store, string name, StateTtlConfig ttl)
    : DiskSingleValueState<TKey, Stamped<T>>(store, name) where TKey : notnull
{
    private readonly DiskTtlCleanup<TKey> _cleanup = new(store, store.PrefixOf(name),
        (value, now) => ttl.IsExpired(DiskStateKeys.StampedAt(value), now) ? null : value);

    public bool HasValue => TryRead(out _);

    protected bool TryRead(out T value)
    {
        _cleanup.OnAccess();
        var entry = CurrentEntry;
        if (TryLoad(entry, out var stamped))
        {
            long now = Store.Now;
            if (!ttl.IsExpired(stamped.At, now))
            {
                if (ttl.UpdateType == StateTtlUpdateType.OnReadAndWrite) Save(entry, stamped with { At = now });
                value = stamped.Value;
                return true;
            }
            Store.Remove(entry);
        }
        value = default!;
        return false;
    }

    protected void Write(T value)
    {
        _cleanup.OnAccess();
        Save(CurrentEntry, new Stamped<T>(value, Store.Now));
    }

    protected override JsonElement? LiveValue(byte[] value, long now) =>
        ttl.IsExpired(DiskStateKeys.StampedAt(value), now) ? null : DiskStateKeys.Element(value);
}

internal sealed class DiskTtlValueState<TKey, T>(DiskKeyedStateStore<TKey> store, string name, StateTtlConfig ttl)
    : DiskTtlSingleValueState<TKey, T>(store, name, ttl), IValueState<T> where TKey : notnull
{
    public T? Value
    {
        get => TryRead(out var value) ? value : default;
        set => Write(value!);
    }
}

/// <summary>A reducing state whose reduced value expires as a whole, as the in-memory one.</summary>
internal sealed class DiskTtlReducingState<TKey, T>(DiskKeyedStateStore<TKey> store, string name, StateTtlConfig ttl, Func<T, T, T> reduce)
    : DiskTtlSingleValueState<TKey, T>(store, name, ttl), IReducingState<T> where TKey : notnull
{
    public T? Value => TryRead(out var value) ? value : default;

    public void Add(T value) => Write(TryRead(out var current) ? reduce(current, value) : value);
}

/// <summary>
/// A list per key, stored whole as one JSON array: <see cref="Add"/> reads, appends and writes it back (simple and
/// correct; a merge operator that appends without the read would suit long lists better).
/// </summary>
internal sealed class DiskListState<TKey, T>(DiskKeyedStateStore<TKey> store, string name)
    : DiskSingleValueState<TKey, List<T>>(store, name), IListState<T> where TKey : notnull
{
    public IReadOnlyList<T> Get() => TryLoad(CurrentEntry, out var list) ? list : [];

    public void Add(T value)
    {
        var entry = CurrentEntry;
        if (!TryLoad(entry, out var list)) list = [];
        list.Add(value);
        Save(entry, list);
    }

    public void Update(IEnumerable<T> values)
    {
        List<T> list = [.. values];
        if (list.Count == 0) Clear();
        else Save(CurrentEntry, list);
    }
}

/// <summary>
/// A list whose elements expire one by one, stored whole with each element's time, as the in-memory one
/// (<see cref="TtlListState{TKey,T}"/>) keeps and checkpoints it.
/// </summary>
internal sealed class DiskTtlListState<TKey, T>(DiskKeyedStateStore<TKey> store, string name, StateTtlConfig ttl)
    : DiskSingleValueState<TKey, List<Stamped<T>>>(store, name), IListState<T> where TKey : notnull
{
    /// <summary>The cleanup reads a whole list only when its first (oldest) element has expired.</summary>
    private readonly DiskTtlCleanup<TKey> _cleanup = new(store, store.PrefixOf(name),
        (value, now) => DiskStateKeys.FirstStampedAt(value) is { } first && !ttl.IsExpired(first, now) ? value : Live(value, now, ttl));

    /// <summary>A stored list with its expired elements dropped: itself if none had, null if all had.</summary>
    private static byte[]? Live(byte[] value, long now, StateTtlConfig ttl)
    {
        var list = DiskStateKeys.FromJson<List<Stamped<T>>>(value);
        int removed = list.RemoveAll(e => ttl.IsExpired(e.At, now));
        return list.Count == 0 ? null : removed == 0 ? value : DiskStateKeys.Json(list);
    }

    public IReadOnlyList<T> Get()
    {
        _cleanup.OnAccess();
        var entry = CurrentEntry;
        if (!TryLoad(entry, out var list)) return [];
        long now = Store.Now;
        int removed = list.RemoveAll(e => ttl.IsExpired(e.At, now));
        if (list.Count == 0)
        {
            Store.Remove(entry);
            return [];
        }
        if (ttl.UpdateType == StateTtlUpdateType.OnReadAndWrite)
        {
            for (int i = 0; i < list.Count; i++) list[i] = list[i] with { At = now };
            Save(entry, list);
        }
        else if (removed > 0) Save(entry, list);
        return list.ConvertAll(e => e.Value);
    }

    public void Add(T value)
    {
        _cleanup.OnAccess();
        var entry = CurrentEntry;
        long now = Store.Now;
        if (TryLoad(entry, out var list)) list.RemoveRange(0, TtlLists.ExpiredAtFront(list, ttl, now));
        else list = [];
        list.Add(new Stamped<T>(value, now));
        Save(entry, list);
    }

    public void Update(IEnumerable<T> values)
    {
        long now = Store.Now;
        List<Stamped<T>> list = [.. values.Select(v => new Stamped<T>(v, now))];
        if (list.Count == 0) Clear();
        else Save(CurrentEntry, list);
    }

    protected override JsonElement? LiveValue(byte[] value, long now) => Live(value, now, ttl) is { } live ? DiskStateKeys.Element(live) : null;
}
