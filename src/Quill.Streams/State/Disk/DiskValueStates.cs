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

    /// <summary>Which stored values a snapshot leaves out (expired ones).</summary>
    protected virtual bool Live(ReadOnlySpan<byte> value, long now) => true;

    public IEnumerable<JsonElement[]> Snapshot(ReadOptions? read, long now)
    {
        foreach (var (key, value) in Store.Scan(_prefix, read))
            if (Live(value, now)) yield return [DiskStateKeys.Element(DiskStateKeys.Split(key, _prefix.Length).Key.Span), DiskStateKeys.Element(value)];
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

/// <summary>A value with a time to live: stored with its write time, as the in-memory one checkpoints it; an expired value reads as none and is removed.</summary>
internal sealed class DiskTtlValueState<TKey, T>(DiskKeyedStateStore<TKey> store, string name, StateTtlConfig ttl)
    : DiskSingleValueState<TKey, Stamped<T>>(store, name), IValueState<T> where TKey : notnull
{
    public bool HasValue => TryRead(out _);

    public T? Value
    {
        get => TryRead(out var value) ? value : default;
        set => Save(CurrentEntry, new Stamped<T>(value!, Store.Now));
    }

    private bool TryRead(out T value)
    {
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

    protected override bool Live(ReadOnlySpan<byte> value, long now) => !ttl.IsExpired(DiskStateKeys.FromJson<Stamped<T>>(value).At, now);
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
