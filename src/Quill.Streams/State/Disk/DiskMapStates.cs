using System.Text.Json;
using Quill.Streams.Checkpoints;
using RocksDbSharp;

namespace Quill.Streams.State.Disk;

/// <summary>
/// A map per key, one database entry per map entry (prefix, key, map key), so a key's map is read, written and
/// removed entry by entry and a large map never has to fit in memory except when <see cref="Entries"/> is asked for.
/// <typeparamref name="TStored"/> is the map value as stored: the value itself, or with its write time for a TTL map.
/// </summary>
internal abstract class DiskMapStateBase<TKey, TMapKey, TMapValue, TStored>(DiskKeyedStateStore<TKey> store, string name)
    : IMapState<TMapKey, TMapValue>, IDiskState where TKey : notnull where TMapKey : notnull
{
    protected readonly DiskKeyedStateStore<TKey> Store = store;
    private readonly byte[] _prefix = store.PrefixOf(name);

    private byte[] EntryOf(TMapKey mapKey) => DiskStateKeys.Entry(_prefix, Store.CurrentKeyJson, DiskStateKeys.Json(mapKey));

    /// <summary>The current key's entries all start with this.</summary>
    private byte[] CurrentKeyPrefix => DiskStateKeys.Entry(_prefix, Store.CurrentKeyJson);

    /// <summary>The live value of a stored one (false: expired); <paramref name="changed"/> if reading changed <paramref name="stored"/> (its time), to be written back.</summary>
    protected abstract bool TryOpen(ref TStored stored, long now, out TMapValue value, out bool changed);
    protected abstract TStored Wrap(TMapValue value, long now);
    protected abstract bool Live(TStored stored, long now);
    /// <summary>Called on every access of the state (for the background cleanup of expired entries).</summary>
    protected virtual void OnAccess() { }

    public bool TryGetValue(TMapKey key, out TMapValue value)
    {
        OnAccess();
        var entry = EntryOf(key);
        var bytes = Store.Get(entry);
        value = default!;
        if (bytes is null) return false;
        var stored = DiskStateKeys.FromJson<TStored>(bytes);
        if (!TryOpen(ref stored, Store.Now, out value, out bool changed))
        {
            Store.Remove(entry);
            return false;
        }
        if (changed) Store.Put(entry, DiskStateKeys.Json(stored));
        return true;
    }

    public void Put(TMapKey key, TMapValue value)
    {
        OnAccess();
        Store.Put(EntryOf(key), DiskStateKeys.Json(Wrap(value, Store.Now)));
    }

    public bool Remove(TMapKey key)
    {
        OnAccess();
        var entry = EntryOf(key);
        var bytes = Store.Get(entry);
        if (bytes is null) return false;
        Store.Remove(entry);
        return Live(DiskStateKeys.FromJson<TStored>(bytes), Store.Now);
    }

    /// <summary>The current key's live entries (a copy); expired ones are removed, and restamped ones written back.</summary>
    public IReadOnlyDictionary<TMapKey, TMapValue> Entries
    {
        get
        {
            OnAccess();
            var prefix = CurrentKeyPrefix;
            var entries = new Dictionary<TMapKey, TMapValue>();
            long now = Store.Now;
            using var batch = new WriteBatch();
            foreach (var (key, bytes) in Store.Scan(prefix))
            {
                var stored = DiskStateKeys.FromJson<TStored>(bytes);
                if (TryOpen(ref stored, now, out var value, out bool changed))
                {
                    entries[DiskStateKeys.FromJson<TMapKey>(key.AsSpan(prefix.Length))] = value;
                    if (changed) batch.Put(key, DiskStateKeys.Json(stored));
                }
                else batch.Delete(key);
            }
            if (batch.Count() > 0) Store.Db.Db.Write(batch, Store.Db.Write);
            return entries;
        }
    }

    public void Clear() => Store.RemoveAll(CurrentKeyPrefix);

    /// <summary>[key, [[map key, value], ...]] per key, as the in-memory map states write it; expired entries, and keys left with none, left out.</summary>
    public IEnumerable<JsonElement[]> Snapshot(ReadOptions? read, long now)
    {
        ReadOnlyMemory<byte> currentKey = default;
        List<JsonElement[]>? pairs = null;
        foreach (var (key, bytes) in Store.Scan(_prefix, read))
        {
            var (keyJson, mapKeyJson) = DiskStateKeys.Split(key, _prefix.Length);
            if (pairs is null || !keyJson.Span.SequenceEqual(currentKey.Span))
            {
                if (pairs is { Count: > 0 }) yield return [DiskStateKeys.Element(currentKey.Span), StateJson.Write(pairs)];
                currentKey = keyJson;
                pairs = [];
            }
            if (Live(DiskStateKeys.FromJson<TStored>(bytes), now)) pairs.Add([DiskStateKeys.Element(mapKeyJson.Span), DiskStateKeys.Element(bytes)]);
        }
        if (pairs is { Count: > 0 }) yield return [DiskStateKeys.Element(currentKey.Span), StateJson.Write(pairs)];
    }

    public void Restore(byte[] keyJson, JsonElement value)
    {
        foreach (var pair in StateJson.Read<List<JsonElement[]>>(value))
        {
            var entry = DiskStateKeys.Entry(_prefix, keyJson, DiskStateKeys.Json(StateJson.Read<TMapKey>(pair[0])));
            Store.Put(entry, DiskStateKeys.Json(StateJson.Read<TStored>(pair[1])));
        }
    }
}

internal sealed class DiskMapState<TKey, TMapKey, TMapValue>(DiskKeyedStateStore<TKey> store, string name)
    : DiskMapStateBase<TKey, TMapKey, TMapValue, TMapValue>(store, name) where TKey : notnull where TMapKey : notnull
{
    protected override bool TryOpen(ref TMapValue stored, long now, out TMapValue value, out bool changed)
    {
        value = stored;
        changed = false;
        return true;
    }

    protected override TMapValue Wrap(TMapValue value, long now) => value;
    protected override bool Live(TMapValue stored, long now) => true;
}

/// <summary>A map whose entries expire one by one (<see cref="StateTtlConfig"/>): stored with their write times.</summary>
internal sealed class DiskTtlMapState<TKey, TMapKey, TMapValue>(DiskKeyedStateStore<TKey> store, string name, StateTtlConfig ttl)
    : DiskMapStateBase<TKey, TMapKey, TMapValue, Stamped<TMapValue>>(store, name) where TKey : notnull where TMapKey : notnull
{
    private readonly DiskTtlCleanup<TKey> _cleanup = new(store, store.PrefixOf(name),
        (value, now) => ttl.IsExpired(DiskStateKeys.StampedAt(value), now) ? null : value);

    protected override void OnAccess() => _cleanup.OnAccess();

    protected override bool TryOpen(ref Stamped<TMapValue> stored, long now, out TMapValue value, out bool changed)
    {
        value = stored.Value;
        changed = false;
        if (ttl.IsExpired(stored.At, now)) return false;
        if (ttl.UpdateType == StateTtlUpdateType.OnReadAndWrite)
        {
            stored = stored with { At = now };
            changed = true;
        }
        return true;
    }

    protected override Stamped<TMapValue> Wrap(TMapValue value, long now) => new(value, now);
    protected override bool Live(Stamped<TMapValue> stored, long now) => !ttl.IsExpired(stored.At, now);
}
